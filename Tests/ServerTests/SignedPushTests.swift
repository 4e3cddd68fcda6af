import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// The server takes only changes signed by a registered, unrevoked device of their author, and
/// hands the signatures on with every page.
@Suite struct SignedPushTests {
    func post(_ client: some TestClientProtocol, _ harness: ServerHarness, as user: String, _ request: Wire.PushRequest) async throws -> TestResponse {
        try await client.execute(uri: "/v1/projects/kz/push", method: .post, headers: harness.headers(user),
                                 body: ByteBuffer(bytes: try JSONEncoder().encode(request)))
    }

    func register(_ client: some TestClientProtocol, _ harness: ServerHarness, _ user: String, _ node: String, _ key: String) async throws -> HTTPResponse.Status {
        try await client.execute(uri: "/v1/projects/kz/devices", method: .post, headers: harness.headers(user),
                                 body: ByteBuffer(bytes: try JSONEncoder().encode(Wire.DeviceRegistration(node: node, signingKey: key)))).status
    }

    @Test(arguments: StoreKind.allCases) func pagesCarryTheBatchesOfTheirChanges(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            let changes = [ana.change(recordA, "title", .text("Journalist arrested")), ana.change(recordA, "location", .text("Алматы"))]
            #expect(try await harness.push(client, as: "ana", changes).status == .ok)
            let page = try await harness.pull(client, as: "bek")
            var check = SignatureCheck(project: "kz", devices: [ServerHarness.device(of: "ana").node: .init(
                owner: "ana", key: Array(ServerHarness.device(of: "ana").key.publicKey.rawRepresentation))])
            #expect(check.add(page.batches).isEmpty)
            #expect(page.unsignedUpTo == 0)
            for logged in page.changes { #expect(throws: Never.self) { try check.signer(of: logged.change).get() } }
            let snapshot = try await client.execute(uri: "/v1/projects/kz/snapshot", method: .get, headers: harness.headers("bek"))
            #expect(try snapshot.decode(Wire.SnapshotResponse.self).batches == page.batches)
        }
    }

    @Test(arguments: StoreKind.allCases) func eachPageCarriesExactlyTheBatchesOfItsOwnChanges(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            // Three pushes of three changes: three batches; pages of two cut across them.
            var ana = ChangeMaker(node: "000000000000000a")
            var pushOf: [HLC: Int] = [:]
            for push in 0..<3 {
                let changes = (0..<3).map { ana.change(String(format: "%032x", push * 3 + $0 + 1), "title", .text("t\(push)-\($0)")) }
                for change in changes { pushOf[change.hlc] = push }
                #expect(try await harness.push(client, as: "ana", changes).status == .ok)
            }
            let device = ServerHarness.device(of: "ana")
            var cursor: Int64 = 0, pages = 0, more = true
            while more {
                let page = try await harness.pull(client, as: "bek", after: cursor, limit: 2)
                var check = SignatureCheck(project: "kz", devices: [device.node: .init(owner: "ana", key: Array(device.key.publicKey.rawRepresentation))])
                #expect(check.add(page.batches).isEmpty)
                for logged in page.changes { #expect(throws: Never.self) { try check.signer(of: logged.change).get() } }
                #expect(page.batches.count == Set(page.changes.compactMap { pushOf[$0.change.hlc] }).count, "page after \(cursor)")
                (cursor, more, pages) = (page.cursor, page.more, pages + 1)
            }
            #expect(cursor == 9 && pages == 5)
        }
    }

    /// A page cut short by its chain (too many left-out entries to list their digests) keeps only a
    /// prefix of the changes it read: it carries the batches of that prefix, not of what it dropped.
    @Test(arguments: StoreKind.allCases) func aPageCutShortByItsChainCarriesOnlyTheBatchesOfWhatItKeeps(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            // Ana's first batch (1 change), Bek's batch of 30, Ana's second batch (1 change).
            var ana = ChangeMaker(node: "000000000000000a"), bek = ChangeMaker(node: "000000000000000b")
            let first = ana.change(String(format: "%032x", 1), "title", .text("first"))
            #expect(try await harness.push(client, as: "ana", [first]).status == .ok)
            let bekChanges = (0..<30).map { bek.change(String(format: "%032x", $0 + 2), "title", .text("b\($0)")) }
            #expect(try await harness.push(client, as: "bek", bekChanges).status == .ok)
            let second = ana.change(String(format: "%032x", 40), "title", .text("second"))
            #expect(try await harness.push(client, as: "ana", [second]).status == .ok)
            // Bek pulls, leaving out his own 30. A budget of 1,000 bytes holds both of Ana's changes but
            // the digests of at most 25 entries, so the page stops inside Bek's run, after the first.
            let skip = Wire.OwnChanges(node: NodeID("000000000000000b")!, upTo: 31)
            #expect(PageCutter.chainRowLimit(maxBytes: 1_000) < 30)
            let device = ServerHarness.device(of: "ana")
            var cursor: Int64 = 0, head = LogChain.genesis, pages: [Wire.PullResponse] = []
            while pages.count < 10 {
                let page = try await harness.store.pull(project: "kz", after: cursor, limit: 100, maxBytes: 1_000, skip: skip)
                var check = SignatureCheck(project: "kz", devices: [device.node: .init(owner: "ana", key: Array(device.key.publicKey.rawRepresentation))])
                #expect(check.add(page.batches).isEmpty)
                for logged in page.changes { #expect(throws: Never.self) { try check.signer(of: logged.change).get() } }
                // Exactly the batches of the changes it carries: one per change of Ana's here.
                #expect(page.batches.count == page.changes.count, "page after \(cursor): \(page.batches.count) batches for \(page.changes.count) changes")
                head = try LogChain.verify(page.changes, after: cursor, cursor: page.cursor, chain: try #require(page.chain), head: head, project: "kz")
                cursor = page.cursor
                pages.append(page)
                if !page.more { break }
            }
            #expect(pages.first?.changes.map(\.change.hlc) == [first.hlc])
            #expect(pages.first.map { $0.cursor > 1 && $0.cursor < 31 } == true, "the first page was not cut inside Bek's run")
            #expect(pages.flatMap(\.changes).map(\.change.hlc) == [first.hlc, second.hlc])
            #expect(cursor == 32)
        }
    }

    @Test(arguments: StoreKind.allCases) func unsignedOrForgedChangesAreRefused(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var bek = ChangeMaker(node: "000000000000000b")
            let change = bek.change(recordA, "title", .text("Written by bek"))
            // No signature at all.
            let unsigned = try await post(client, harness, as: "bek", Wire.PushRequest(changes: [change]))
            #expect(unsigned.status == .unprocessableContent)
            #expect(unsigned.error?.code == "bad_signature")
            // Bek pushes a change in Ana's name, signed by his own device: the author is not the device's owner.
            var inAnasName = change
            inAnasName.author = "ana"
            let bekDevice = ServerHarness.device(of: "bek")
            let forged = Wire.PushRequest(changes: [inAnasName], batches: [try SignedBatch(signing: [inAnasName], project: "kz", node: bekDevice.node, key: bekDevice.key)])
            #expect(try await post(client, harness, as: "bek", forged).status == .unprocessableContent)
            // ... or names Ana's device for a batch signed with his key: the signature does not hold.
            let posing = Wire.PushRequest(changes: [inAnasName], batches: [try SignedBatch(signing: [inAnasName], project: "kz", node: ServerHarness.device(of: "ana").node, key: bekDevice.key)])
            #expect(try await post(client, harness, as: "bek", posing).status == .unprocessableContent)
            // A signed change altered on the way.
            var request = try ServerHarness.signedPush([change], as: "bek")
            request.changes[0].value = .text("Altered on the way")
            #expect(try await post(client, harness, as: "bek", request).status == .unprocessableContent)
            #expect(try await harness.pull(client, as: "ana").changes.isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func aRevokedDevicesNewChangesAreRefused(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            #expect(try await harness.push(client, as: "ana", [ana.change(recordA, "title", .text("Before"))]).status == .ok)
            #expect(try await harness.store.revokeDevice(node: ServerHarness.device(of: "ana").node, project: nil, now: ServerHarness.now) == 1)
            let refused = try await harness.push(client, as: "ana", [ana.change(recordB, "title", .text("After"))])
            #expect(refused.status == .forbidden)
            #expect(refused.error?.message.contains("revoked") == true)
            // What it signed before stays, with its signature.
            let page = try await harness.pull(client, as: "bek")
            #expect(page.changes.count == 1 && page.batches.count == 1)
            let listed = try await client.execute(uri: "/v1/projects/kz/devices", method: .get, headers: harness.headers("bek"))
            let devices = try listed.decode(Wire.DeviceList.self).devices
            #expect(devices.first { $0.owner == "ana" }?.revokedAt != nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func aDeviceRegistersOnceForItsOwner(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let key = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
            let first = try await register(client, harness, "ana", "00000000000000aa", key)
            #expect(first == .ok)
            #expect(try await register(client, harness, "ana", "00000000000000aa", key) == .ok)  // a retry
            #expect(try await register(client, harness, "bek", "00000000000000aa", key) == .conflict)  // another's node
            let other = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
            #expect(try await register(client, harness, "ana", "00000000000000aa", other) == .conflict)  // keys never change
            #expect(try await register(client, harness, "ana", "00000000000000ab", "not a key") == .badRequest)
            #expect(try await register(client, harness, "ana", "ZZ", key) == .badRequest)
        }
    }

    @Test(arguments: StoreKind.allCases) func aRelayedChangeIsCreditedToItsAuthorNotThePusher(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            // Ana's change, signed by her device, reaches the server through Bek (a bundle he applied).
            var ana = ChangeMaker(node: "000000000000000a")
            var change = ana.change(recordA, "title", .text("Written by ana, carried by bek"))
            change.author = "ana"
            let relayed = try await post(client, harness, as: "bek", try ServerHarness.signedPush([change], as: "ana"))
            #expect(relayed.status == .ok)
            #expect(try relayed.decode(Wire.PushResponse.self).results.first?.status == .applied)
            let page = try await harness.pull(client, as: "vera")
            #expect(page.changes.map(\.change.author) == ["ana"])
            // Ana's own push of it later is a duplicate, and her device's node stays hers.
            let own = try await post(client, harness, as: "ana", try ServerHarness.signedPush([change], as: "ana"))
            #expect(try own.decode(Wire.PushResponse.self).results.first?.status == .duplicate)
            var next = ana.change(recordA, "location", .text("Алматы"))
            next.author = "ana"
            let later = try await post(client, harness, as: "ana", try ServerHarness.signedPush([next], as: "ana"))
            #expect(try later.decode(Wire.PushResponse.self).results.first?.status == .applied)
            #expect(try await harness.store.nodeOwner(project: "kz", node: NodeID("000000000000000a")!) == "ana")
        }
    }

    @Test(arguments: StoreKind.allCases) func relayedChangesOfAnAuthorWhoMayNotPushAndTwoChangesOfOneTimestampAreRefused(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            // Bek's own content under the timestamp of Ana's change he carries: it would be credited to Ana.
            var ana = ChangeMaker(node: ServerHarness.device(of: "ana").node.rawValue)
            var carried = ana.change(recordA, "title", .text("Written by ana"))
            carried.author = "ana"
            var forged = carried
            forged.value = .text("Written by bek, under ana's name")
            forged.author = "bek"
            let bekPart = try ServerHarness.signedPush([forged], as: "bek"), anaPart = try ServerHarness.signedPush([carried], as: "ana")
            let spliced = Wire.PushRequest(changes: bekPart.changes + anaPart.changes, batches: bekPart.batches + anaPart.batches)
            let spliceAnswer = try await post(client, harness, as: "bek", spliced)
            #expect(spliceAnswer.status == .ok)
            #expect(try spliceAnswer.decode(Wire.PushResponse.self).results.first?.status == .rejected)
            #expect(try await harness.pull(client, as: "vera").changes.allSatisfy { $0.change.author != "ana" }, "nothing is stored under ana's name")
            // A viewer's change, and one of a revoked user, relayed by a researcher: refused whole.
            var vera = ChangeMaker(node: ServerHarness.device(of: "vera").node.rawValue)
            var viewers = vera.change(recordB, "title", .text("A viewer's edit"))
            viewers.author = "vera"
            let fromViewer = try await post(client, harness, as: "bek", try ServerHarness.signedPush([viewers], as: "vera"))
            #expect(fromViewer.status == .forbidden)
            #expect(String(buffer: fromViewer.body).contains("vera, who may not push"))
            try await harness.store.revokeUser(name: "ana", now: ServerHarness.now)
            let afterLeaving = try await post(client, harness, as: "bek", try ServerHarness.signedPush([carried], as: "ana"))
            #expect(afterLeaving.status == .forbidden)
            #expect(try await harness.pull(client, as: "bek").changes.isEmpty)
        }
    }
}
