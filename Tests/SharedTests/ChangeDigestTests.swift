import Foundation
import Testing
@testable import Shared

/// The digest signatures and the log's hash chain are built on.
@Suite struct ChangeDigestTests {
    let change = Fixture.change(.text("Arrest at the court"), at: Fixture.hlc(1000, 2), base: Fixture.hlc(900, 0, Fixture.nodeB),
                                supersedes: [Fixture.hlc(950, 0, Fixture.nodeC), Fixture.hlc(940, 1, Fixture.nodeB)])

    @Test func theDigestIsTheDocumentedEncodingHashed() {
        // Computed independently (Python's hashlib over the encoding docs/protocol.md describes), so a
        // change of the encoding, which would orphan every signature ever made, fails here.
        #expect(ChangeDigest(of: change, project: "kz").hex == "818f67f7877a8c4e6e3854f8ae515bf2cc20252673e719b5b4602858837f4cf8")
    }

    @Test func everyPartOfAChangeIsInItsDigest() {
        let digest = ChangeDigest(of: change, project: "kz")
        var variants: [Change] = []
        func variant(_ edit: (inout Change) -> Void) { var copy = change; edit(&copy); variants.append(copy) }
        variant { $0.collection = "sources" }
        variant { $0.record = String($0.record.reversed()) }
        variant { $0.field = "summary" }
        variant { $0.value = .text("Arrest at the court ") }
        variant { $0.hlc = Fixture.hlc(1000, 3) }
        variant { $0.base = nil }
        variant { $0.supersedes.removeLast() }
        variant { $0.covers = [Fixture.hlc(1, 0)] }
        variant { $0.author = "bo" }
        for other in variants { #expect(ChangeDigest(of: other, project: "kz") != digest, "\(other)") }
        #expect(ChangeDigest(of: change, project: "kz2") != digest)
        // Lengths are prefixed: moving a character from one part to the next is another change.
        var shifted = change
        shifted.collection = "incidentst"
        shifted.field = "itle"
        #expect(ChangeDigest(of: shifted, project: "kz") != digest)
    }

    @Test func listOrderIsNotPartOfTheChange() {
        var reordered = change
        reordered.supersedes.reverse()
        #expect(ChangeDigest(of: reordered, project: "kz") == ChangeDigest(of: change, project: "kz"))
    }

    @Test func hexRoundTripsAndRefusesWhatIsNotADigest() {
        let digest = ChangeDigest(of: change, project: "kz")
        #expect(ChangeDigest(hex: digest.hex) == digest)
        #expect(ChangeDigest(hex: digest.hex.uppercased()) == digest)
        #expect(ChangeDigest(hex: String(digest.hex.dropLast())) == nil)
        #expect(ChangeDigest(hex: String(digest.hex.dropLast()) + "g") == nil)
        #expect(ChangeDigest(bytes: Array(digest.bytes.dropLast())) == nil)
    }

    @Test func everyByteCountsAndListsPackAndUnpackWhole() {
        let digest = ChangeDigest(of: change, project: "kz")
        #expect(ChangeDigest(bytes: digest.bytes + [0]) == nil)
        // Each of the 32 bytes, changed alone, gives another digest (the four words are all compared and hashed).
        var distinct: Set<ChangeDigest> = [digest]
        for index in 0 ..< 32 {
            var bytes = digest.bytes
            bytes[index] ^= 0x80
            let other = ChangeDigest(bytes: bytes)
            #expect(other != digest && other?.bytes == bytes)
            if let other { distinct.insert(other) }
        }
        #expect(distinct.count == 33)
        let list = [digest, ChangeDigest(of: change, project: "uz"), digest]
        #expect(ChangeDigest.pack(list).count == 96)
        #expect(ChangeDigest.unpack(ChangeDigest.pack(list)) == list)
        #expect(ChangeDigest.unpack(ChangeDigest.pack(list).dropLast()) == nil)
        #expect(ChangeDigest.unpack([UInt8]()) == [])
    }
}
