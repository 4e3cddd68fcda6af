import Foundation
import HummingbirdTesting
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// A node id belongs to the user whose push first carried it: nobody can stamp changes as another
/// user's replica, and a pull skips only the puller's own changes.
@Suite struct NodeOwnershipTests {
    @Test(arguments: StoreKind.allCases) func aChangeStampedWithAnotherUsersNodeIsRefused(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            let mine = ana.change(recordA, "title", .text("Protest"))
            let first = try await harness.push(client, as: "ana", [mine])
            #expect(try first.decode(Wire.PushResponse.self).results.map(\.status) == [.applied])

            // Bek read Ana's node id from a pulled change and stamps his own change with it.
            var forger = ChangeMaker(node: "000000000000000a")
            forger.millis += 10
            let forged = forger.change(recordB, "title", .text("Planted"))
            var bek = ChangeMaker(node: "000000000000000b")
            let honest = bek.change(recordB, "title", .text("Honest"))
            let response = try await harness.push(client, as: "bek", [forged, honest])
            let results = try response.decode(Wire.PushResponse.self).results
            #expect(results.map(\.status) == [.rejected, .applied])
            #expect(results[0].code == "node_forged")
            #expect(results[0].reason?.contains("belongs to another user's replica") == true)

            // Ana's own node stays hers; Bek's first push bound his.
            var anaLater = ChangeMaker(node: "000000000000000a")
            anaLater.millis += 20
            let later = anaLater.change(recordA, "location", .text("Almaty"))
            let again = try await harness.push(client, as: "ana", [later])
            #expect(try again.decode(Wire.PushResponse.self).results.map(\.status) == [.applied])
            #expect(try await harness.store.nodeOwner(project: "kz", node: NodeID("000000000000000a")!) == "ana")
            #expect(try await harness.store.nodeOwner(project: "kz", node: NodeID("000000000000000b")!) == "bek")
            #expect(try await harness.store.nodeOwner(project: "other", node: NodeID("000000000000000a")!) == nil)
            #expect(try await harness.pull(client, as: "vera").changes.map(\.change.hlc) == [mine.hlc, honest.hlc, later.hlc])
            #expect(try await client.execute(uri: "/v1/health", method: .get).status == .ok)
        }
    }

    @Test(arguments: StoreKind.allCases) func aPullSkipsOnlyThePullersOwnNode(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            var bek = ChangeMaker(node: "000000000000000b")
            _ = try await harness.push(client, as: "ana", [ana.change(recordA, "title", .text("a1")), ana.change(recordA, "location", .text("a2"))])
            _ = try await harness.push(client, as: "bek", [bek.change(recordB, "title", .text("b1"))])

            // Bek names Ana's node as his own: the skip is ignored, he gets every change.
            let stolen = Wire.OwnChanges(node: NodeID("000000000000000a")!, upTo: 3)
            let forged = try await client.execute(uri: "/v1/projects/kz/pull?after=0&\(stolen.query)", method: .get, headers: harness.headers("bek"))
            #expect(try forged.decode(Wire.PullResponse.self).changes.map(\.seq) == [1, 2, 3])
            // A node nobody has pushed from is not skipped either.
            let unknown = Wire.OwnChanges(node: NodeID("00000000000000ff")!, upTo: 3)
            let none = try await client.execute(uri: "/v1/projects/kz/pull?after=0&\(unknown.query)", method: .get, headers: harness.headers("bek"))
            #expect(try none.decode(Wire.PullResponse.self).changes.map(\.seq) == [1, 2, 3])
            // His own node is skipped as before.
            let own = Wire.OwnChanges(node: NodeID("000000000000000b")!, upTo: 3)
            let mine = try await client.execute(uri: "/v1/projects/kz/pull?after=0&\(own.query)", method: .get, headers: harness.headers("bek"))
            let page = try mine.decode(Wire.PullResponse.self)
            #expect(page.changes.map(\.seq) == [1, 2])
            #expect(page.cursor == 3)
        }
    }
}
