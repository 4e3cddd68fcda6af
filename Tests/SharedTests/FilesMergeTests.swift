import Foundation
import Testing
@testable import Shared

/// Attached files merge as sets: two researchers attaching evidence to one incident at once keep both.
@Suite struct FilesMergeTests {
    typealias F = Fixture

    static func file(_ digit: Character, _ name: String) -> FileRef {
        FileRef(sha256: String(repeating: digit, count: 64), name: name, size: 10, mime: "image/jpeg")
    }
    static let photo = file("a", "photo.jpg")
    static let scan = file("b", "scan.pdf")
    static let audio = file("c", "testimony.m4a")

    func change(_ files: [FileRef], _ millis: UInt64, _ node: NodeID, base: HLC? = nil) -> Change {
        F.change("evidence", .files(files), at: F.hlc(millis, 0, node), base: base)
    }

    /// The value and conflicts of `changes` applied in every order: all the same, or the test fails.
    func converged(_ changes: [Change]) -> (FieldValue, Int) {
        var outcomes: [(FieldValue, Int)] = []
        for order in changes.permutations() {
            var replica = InMemoryReplica(schema: .upr)
            for change in order { replica.apply(change) }
            outcomes.append((replica.value(record: F.record, field: "evidence"), replica.conflicts.count))
        }
        for outcome in outcomes { #expect(outcome == outcomes[0]) }
        return outcomes[0]
    }

    @Test func concurrentAttachmentsToOneRecordKeepBoth() {
        let v0 = change([Self.photo], 1_000, F.nodeA)
        let ana = change([Self.photo, Self.scan], 2_000, F.nodeA, base: v0.hlc)
        let bek = change([Self.photo, Self.audio], 2_001, F.nodeB, base: v0.hlc)
        let (value, conflicts) = converged([v0, ana, bek])
        #expect(value == .files([Self.photo, Self.audio, Self.scan]))
        #expect(conflicts == 0)
    }

    @Test func firstAttachmentsMadeOfflineMergeFromNothing() {
        let ana = change([Self.scan], 2_000, F.nodeA)
        let bek = change([Self.audio, Self.scan], 2_001, F.nodeB)
        let (value, conflicts) = converged([ana, bek])
        #expect(value == .files([Self.audio, Self.scan]))
        #expect(conflicts == 0)
    }

    @Test func aRemovalAndAConcurrentAdditionBothHold() {
        let v0 = change([Self.photo, Self.scan], 1_000, F.nodeA)
        let ana = change([Self.scan], 2_000, F.nodeA, base: v0.hlc)
        let bek = change([Self.photo, Self.scan, Self.audio], 2_001, F.nodeB, base: v0.hlc)
        let (value, conflicts) = converged([v0, ana, bek])
        #expect(value == .files([Self.scan, Self.audio]))
        #expect(conflicts == 0)
    }

    @Test func theHookRefusesWhatIsNotFiles() {
        #expect(MergeHook.files.merge(.unset, [.files([Self.photo]), .text("x")]) == nil)
        #expect(MergeHook.files.merge(.files([Self.photo]), [.unset, .files([Self.photo])]) == .unset)
        #expect(MergeHook.longText.baseWhenUnrelated == nil)
    }
}

extension Array {
    /// Every ordering of the elements (for small arrays).
    func permutations() -> [[Element]] {
        guard count > 1 else { return [self] }
        return indices.flatMap { index -> [[Element]] in
            var rest = self
            let first = rest.remove(at: index)
            return rest.permutations().map { [first] + $0 }
        }
    }
}
