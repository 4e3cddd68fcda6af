import Foundation
import Testing
@testable import Shared

/// The project log's hash chain, and a replica's check that a pull page extends the head it verified.
@Suite struct LogChainTests {
    let project = "kz"

    /// Five logged changes, numbered 1 to 5, as the server records them (author included).
    var log: [Wire.LoggedChange] {
        (1...5).map { seq in
            var change = Fixture.change(.text("value \(seq)"), at: Fixture.hlc(UInt64(1000 + seq), 0))
            change.author = seq % 2 == 0 ? "bek" : "ana"
            return Wire.LoggedChange(seq: Int64(seq), change: change, receivedAt: 1)
        }
    }

    /// The chain value after the entries up to `seq`.
    func value(at seq: Int64, of log: [Wire.LoggedChange]) -> LogChain {
        log.prefix { $0.seq <= seq }.reduce(LogChain.genesis) { $0.appending(seq: $1.seq, digest: ChangeDigest(of: $1.change, project: project)) }
    }

    /// The page a server gives after `after` up to `cursor`, leaving out the entries `withheld`.
    func page(after: Int64, cursor: Int64, withholding withheld: Set<Int64> = [], of log: [Wire.LoggedChange]) -> ([Wire.LoggedChange], Wire.PageChain) {
        let range = log.filter { $0.seq > after && $0.seq <= cursor }
        let chain = Wire.PageChain(after: value(at: after, of: log), cursor: value(at: cursor, of: log),
                                   withheld: range.filter { withheld.contains($0.seq) }.map { ChangeDigest(of: $0.change, project: project) })
        return (range.filter { !withheld.contains($0.seq) }, chain)
    }

    @Test func theChainIsTheDocumentedHashOfThePreviousValueTheNumberAndTheDigest() throws {
        // Computed independently (Python's hashlib: SHA-256 of the previous value, the number as 8
        // bytes big-endian and the digest pinned in ChangeDigestTests).
        let digest = try #require(ChangeDigest(hex: "818f67f7877a8c4e6e3854f8ae515bf2cc20252673e719b5b4602858837f4cf8"))
        #expect(LogChain.genesis.hex == String(repeating: "0", count: 64))
        let first = LogChain.genesis.appending(seq: 1, digest: digest)
        #expect(first.hex == "f6c56180c8e30805898bb2ea70d7c5c9535e426ea5aa5d961eb07951b52179c5")
        #expect(first.appending(seq: 2, digest: digest).hex == "30624dc80c8a1a9434d3d05e78fd99babbb428946279bf5ea87d6090a63230bc")
        #expect(LogChain(hex: first.hex) == first)
        #expect(LogChain(hex: String(first.hex.dropLast())) == nil)
    }

    @Test func aPageThatExtendsTheHeadIsAcceptedWithItsWithheldEntries() throws {
        let log = self.log
        let (changes, chain) = page(after: 2, cursor: 5, withholding: [3, 5], of: log)
        let head = try LogChain.verify(changes, after: 2, cursor: 5, chain: chain, head: value(at: 2, of: log), project: project)
        #expect(head == value(at: 5, of: log))
        // A replica that verified nothing yet takes the page's own start on trust.
        #expect(try LogChain.verify(changes, after: 2, cursor: 5, chain: chain, head: nil, project: project) == head)
        // An empty page keeps the head.
        let (none, same) = page(after: 5, cursor: 5, of: log)
        #expect(try LogChain.verify(none, after: 5, cursor: 5, chain: same, head: head, project: project) == head)
    }

    @Test func historyAlteredDroppedOrReorderedBeforeTheHeadIsRefused() {
        let log = self.log
        let head = value(at: 3, of: log)
        var altered = log
        altered[1].change.value = .text("rewritten")
        var dropped = Array(log[0..<1] + log[2...])
        for index in dropped.indices { dropped[index].seq = Int64(index + 1) }
        var reordered = log
        reordered.swapAt(0, 1)
        for index in reordered.indices { reordered[index].seq = Int64(index + 1) }
        for rewritten in [altered, dropped, reordered] {
            // The server re-chained its rewritten log: the value at the replica's head differs.
            let (changes, chain) = page(after: 3, cursor: Int64(rewritten.count), of: rewritten)
            #expect(throws: LogChain.Break.self) {
                try LogChain.verify(changes, after: 3, cursor: Int64(rewritten.count), chain: chain, head: head, project: project)
            }
        }
    }

    @Test func aPageWhoseEntriesDoNotLeadToItsValueIsRefused() {
        let log = self.log
        let head = value(at: 2, of: log)
        let (changes, chain) = page(after: 2, cursor: 5, withholding: [4], of: log)
        var altered = changes
        altered[0].change.value = .text("altered in the page")
        var missing = chain
        missing.withheld = []
        var extra = chain
        extra.withheld += extra.withheld
        let swapped = [changes[1], changes[0]]
        for (entries, pageChain) in [(altered, chain), (changes, missing), (changes, extra), (swapped, chain), (Array(changes.dropFirst()), chain)] {
            #expect(throws: LogChain.Break.self) {
                try LogChain.verify(entries, after: 2, cursor: 5, chain: pageChain, head: head, project: project)
            }
        }
    }

    @Test func thePageChainTravelsInBothCodecs() throws {
        let log = self.log
        let (changes, chain) = page(after: 1, cursor: 5, withholding: [2, 4], of: log)
        let response = Wire.PullResponse(changes: changes, cursor: 5, more: false, latest: 5, serverTime: 1, chain: chain)
        let fast = WireCodec.encode(response)
        #expect(try WireCodec.decodePullResponse(fast, fallback: false).chain == chain)
        #expect(try JSONDecoder().decode(Wire.PullResponse.self, from: fast).chain == chain)
        #expect(try WireCodec.decodePullResponse(JSONEncoder().encode(response), fallback: false).chain == chain)
        // 32 bytes a withheld digest, in base64.
        #expect(chain.withheldText.utf8.count == 88)
        let snapshot = Wire.SnapshotResponse(changes: [], since: 5, next: nil, total: 0, serverTime: 1, chain: chain.cursor)
        #expect(try WireCodec.decodeSnapshotResponse(WireCodec.encode(snapshot), fallback: false).chain == chain.cursor)
        #expect(try JSONDecoder().decode(Wire.SnapshotResponse.self, from: JSONEncoder().encode(snapshot)).chain == chain.cursor)
    }
}
