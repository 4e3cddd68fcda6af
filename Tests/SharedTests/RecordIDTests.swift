import Foundation
import Testing
@testable import Shared

@Suite struct RecordIDTests {
    @Test func idsAreUniqueWellFormedAndCarryTheirCreationTime() {
        var generator = SeededGenerator(seed: 42)
        var seen = Set<String>()
        for i in 0..<10_000 {
            let id = RecordID.generate(now: 1_700_000_000_000 + UInt64(i / 10), using: &generator)
            #expect(RecordID.isValid(id))
            #expect(RecordID.createdMillis(id) == 1_700_000_000_000 + UInt64(i / 10))
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }

    @Test func timeOrderKeySortsByCreationTime() {
        var generator = SeededGenerator(seed: 7)
        let ids = (0..<100).map { RecordID.generate(now: 1_000 + UInt64($0) * 3, using: &generator) }
        #expect(ids.sorted { RecordID.timeOrderKey($0) < RecordID.timeOrderKey($1) } == ids)
    }

    @Test func shortPrefixesOfIdsMadeTogetherAreUnique() {
        var generator = SeededGenerator(seed: 9)
        let ids = (0..<50).map { _ in RecordID.generate(now: 1_700_000_000_000, using: &generator) }
        #expect(Set(ids.map { $0.prefix(8) }).count == 50)
    }

    @Test func prefixResolution() throws {
        let ids = ["abcdef0011", "abcdef0022", "123456aaaa"]
        #expect(IDPrefix.resolve("123456", among: ids) == .found("123456aaaa"))
        #expect(IDPrefix.resolve("abcdef", among: ids) == .ambiguous(["abcdef0011", "abcdef0022"]))
        #expect(IDPrefix.resolve("abcdef002", among: ids) == .found("abcdef0022"))
        #expect(IDPrefix.resolve("ffffff", among: ids) == .notFound)
        #expect(throws: IDPrefix.Failure.self) { try IDPrefix.validate("abc") }
        #expect(throws: IDPrefix.Failure.self) { try IDPrefix.validate("xyz12345") }
        #expect(try IDPrefix.validate("ABCDEF12") == "abcdef12")
    }
}
