import Foundation
import GRDB
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Need-to-know and the log's hash chain on both stores: membership events are entries of the chain,
/// and a page gives whoever may not read a record only the digests of its changes, in the same
/// `withheld` list as every other entry it leaves out, so that any member verifies the chain.
@Suite struct NeedToKnowChainStoreTests {
    let policy = PushPolicy(now: ServerHarness.now, maxDriftMillis: 300_000)

    /// One log entry as the test expects it: a change (with its author) or a membership event.
    enum Entry {
        case change(Change)
        case membership(user: String, joined: Bool)

        /// Its digest; a membership event's with the nonce the store drew for it.
        func digest(seq: Int64, nonces: [Int64: String]) -> ChangeDigest {
            switch self {
            case .change(let change): ChangeDigest(of: change, project: "kz")
            case .membership(let user, let joined):
                ChangeDigest(membershipOf: user, group: "witnesses", joined: joined, seq: seq, nonce: nonces[seq] ?? "", project: "kz")
            }
        }
    }

    /// Ana joins `witnesses` (1), restricts record A to it (2, 3), adds the team's record B (4); Bek
    /// joins (5) and leaves (6); Ana edits B (7). Returns the entries in sequence order.
    func build(_ store: any SyncStore) async throws -> [Entry] {
        var ana = ChangeMaker(node: "00000000000000a1")
        var entries: [Entry] = []
        func push(_ changes: [Change]) async throws {
            let results = try await store.push(project: "kz", changes: changes, author: "ana", policy: policy)
            #expect(results.allSatisfy { $0.status == .applied })
            entries += changes.map { var change = $0; change.author = "ana"; return .change(change) }
        }
        func member(_ user: String, _ joined: Bool) async throws {
            try await store.changeGroupMember(project: "kz", group: "witnesses", user: user, add: joined)
            entries.append(.membership(user: user, joined: joined))
        }
        try await store.addGroup(project: "kz", name: "witnesses", now: ServerHarness.now)
        try await member("ana", true)
        try await push([ana.change(recordA, Change.accessField, .list(["witnesses"])), ana.change(recordA, "title", .text("Zhanar's statement"))])
        let first = ana.change(recordB, "title", .text("Arrest in Almaty"))
        try await push([first])
        try await member("bek", true)
        try await member("bek", false)
        try await push([ana.change(recordB, "title", .text("Arrest in Almaty, 12 May"), base: first.hlc)])
        return entries
    }

    func value(at seq: Int64, of entries: [Entry], _ nonces: [Int64: String]) -> LogChain {
        entries.prefix(Int(seq)).enumerated().reduce(LogChain.genesis) { value, item in
            value.appending(seq: Int64(item.offset + 1), digest: item.element.digest(seq: Int64(item.offset + 1), nonces: nonces))
        }
    }

    @Test(arguments: StoreKind.allCases) func aNonMembersPagesWithholdHiddenChangesAndMembershipEventsAndVerify(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let entries = try await build(harness.store)
        let nonces = try await harness.storedMembershipNonces()
        // A nonce of 32 random bytes for each membership event, and only for them.
        #expect(nonces.keys.sorted() == [1, 5, 6] && Set(nonces.values).count == 3 && nonces.values.allSatisfy { Hex.decode($0)?.count == 32 })
        try await harness.app.test(.router) { client in
            for (user, carried) in [("bek", [4, 7]), ("admin", [2, 3, 4, 7])] {
                // Page by page (one change a page) and whole, both verified from the zero value.
                for limit in [1, 100] {
                    var head = LogChain.genesis, cursor: Int64 = 0, seqs: [Int64] = [], withheld: [ChangeDigest] = []
                    while true {
                        let page = try await harness.pull(client, as: user, after: cursor, limit: limit)
                        let chain = try #require(page.chain)
                        head = try LogChain.verify(page.changes, after: cursor, cursor: page.cursor, chain: chain, head: head, project: "kz")
                        seqs += page.changes.map(\.seq)
                        withheld += chain.withheld
                        if user == "bek" {
                            let bytes = String(decoding: WireCodec.encode(page), as: UTF8.self)
                            #expect(!bytes.contains(recordA) && !bytes.contains("Zhanar") && !bytes.contains("witnesses"), "\(bytes)")
                        }
                        cursor = page.cursor
                        if !page.more { break }
                    }
                    #expect(seqs == carried.map(Int64.init), "\(user)")
                    #expect(head == value(at: 7, of: entries, nonces))
                    // Every entry left out is there by its digest, a hidden change's exactly as a member's replica computes it.
                    let left = (1...7).filter { !carried.contains($0) }
                    #expect(withheld == left.map { entries[$0 - 1].digest(seq: Int64($0), nonces: nonces) }, "\(user)")
                }
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func aSnapshotOrPushAfterAMembershipEventChainsOnFromIt(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        var entries = try await build(harness.store)
        try await harness.store.changeGroupMember(project: "kz", group: "witnesses", user: "bek", add: true)
        entries.append(.membership(user: "bek", joined: true))
        let nonces = try await harness.storedMembershipNonces()
        // A snapshot whose `since` is a membership event has the value there.
        let snapshot = try await harness.store.snapshot(project: "kz", after: nil, limit: 100, maxBytes: 1 << 20,
                                                        reader: ReadAccess(groups: []))
        #expect(snapshot.since == 8 && snapshot.chain == value(at: 8, of: entries, nonces))
        #expect(snapshot.changes.map(\.change.record) == [recordB])
        // A push right after one chains on from it.
        var ana = ChangeMaker(node: "00000000000000a2")
        var change = ana.change("cccccccccccccccccccccccccccccc03", "title", .text("Detention in Shymkent"))
        _ = try await harness.store.push(project: "kz", changes: [change], author: "ana", policy: policy)
        change.author = "ana"
        entries.append(.change(change))
        let page = try await harness.store.pull(project: "kz", after: 8, limit: 100, maxBytes: 1 << 20, skip: nil, reader: ReadAccess(groups: []))
        let chain = try #require(page.chain)
        #expect(try LogChain.verify(page.changes, after: 8, cursor: page.cursor, chain: chain, head: value(at: 8, of: entries, nonces), project: "kz")
            == value(at: 9, of: entries, nonces))
    }
}

extension ServerHarness {
    /// The nonces of the membership events, by sequence number, read straight from the database.
    func storedMembershipNonces() async throws -> [Int64: String] {
        let sql = "SELECT seq, nonce FROM access_event WHERE nonce IS NOT NULL"
        if let sqlite = store as? SQLiteSyncStore {
            return try await sqlite.pool.read { db in
                Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: sql).map { (row: Row) -> (Int64, String) in (row[0], row[1]) })
            }
        }
        let lines = try TestPostgres.psql(try #require(databaseURL), sql).split(separator: "\n")
        return Dictionary(uniqueKeysWithValues: lines.compactMap { line -> (Int64, String)? in
            let parts = line.split(separator: "|")
            guard parts.count == 2, let seq = Int64(parts[0]) else { return nil }
            return (seq, String(parts[1]))
        })
    }
}
