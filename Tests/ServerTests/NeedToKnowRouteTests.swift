import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Need-to-know on both stores, through the routes: a record restricted to a group reaches only its
/// members and admins; for anyone else every endpoint that serves record data answers as if it did
/// not exist, and a push touching it is refused as an unknown record and changes nothing.
@Suite struct NeedToKnowRouteTests {
    /// Ana is in `witnesses`; Bek is not. Record A is restricted to `witnesses`, record B is the team's.
    func restricted(_ harness: ServerHarness, _ client: some TestClientProtocol) async throws -> (a: [Change], b: [Change]) {
        try await harness.store.addGroup(project: "kz", name: "witnesses", now: ServerHarness.now)
        try await harness.store.changeGroupMember(project: "kz", group: "witnesses", user: "ana", add: true)
        var ana = ChangeMaker(node: "00000000000000a1")
        let a = [ana.change(recordA, Change.accessField, .list(["witnesses"])), ana.change(recordA, "title", .text("Zhanar's statement")),
                 ana.change(recordA, "evidence", .files([FileRef(sha256: TestFile(size: 10).sha256, name: "a.jpg", size: 10, mime: "image/jpeg")]))]
        let b = [ana.change(recordB, "title", .text("Arrest in Almaty"))]
        let results = try await harness.push(client, as: "ana", a + b).decode(Wire.PushResponse.self).results
        #expect(results.map(\.status) == [.applied, .applied, .applied, .applied])
        return (a, b)
    }

    func snapshot(_ harness: ServerHarness, _ client: some TestClientProtocol, as user: String) async throws -> Wire.SnapshotResponse {
        let response = try await client.execute(uri: "/v1/projects/kz/snapshot", method: .get, headers: harness.headers(user))
        #expect(response.status == .ok)
        return try response.decode(Wire.SnapshotResponse.self)
    }

    @Test(arguments: StoreKind.allCases) func aRestrictedRecordReachesOnlyMembersAndAdmins(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let (a, b) = try await restricted(harness, client)
            for user in ["ana", "admin"] {
                #expect(Set(try await harness.pull(client, as: user).changes.map(\.change.hlc)) == Set((a + b).map(\.hlc)))
                let snapshot = try await snapshot(harness, client, as: user)
                #expect(snapshot.changes.count == 4 && snapshot.total == 4)
            }
            for user in ["bek", "vera"] {
                let pulled = try await harness.pull(client, as: user)
                #expect(pulled.changes.map(\.change.hlc) == b.map(\.hlc))
                let snapshot = try await snapshot(harness, client, as: user)
                #expect(snapshot.changes.map(\.change.record) == [recordB])
                // Not counted in anything they see.
                #expect(snapshot.total == 1)
            }
            // Paging by one skips the hidden changes without stalling.
            var after: Int64 = 0, seen: [String] = []
            while true {
                let page = try await harness.pull(client, as: "bek", after: after, limit: 1)
                seen += page.changes.map(\.change.record)
                guard page.more else { break }
                after = page.cursor
            }
            #expect(seen == [recordB])
        }
    }

    @Test(arguments: StoreKind.allCases) func historyAndFilesOfAHiddenRecordAnswerAsForNone(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let (a, _) = try await restricted(harness, client)
            let file = TestFile(size: 10)
            try await harness.upload(client, as: "ana", file)
            func history(_ record: String, as user: String) async throws -> (HTTPResponse.Status, Wire.HistoryResponse) {
                let asked = Wire.HistoryRequest(fields: [.init(record: record, field: "title", heads: [a[1].hlc])])
                let response = try await client.execute(uri: "/v1/projects/kz/history", method: .post, headers: harness.headers(user),
                                                        body: ByteBuffer(bytes: try JSONEncoder().encode(asked)))
                var answer = try response.decode(Wire.HistoryResponse.self)
                answer.serverTime = 0
                return (response.status, answer)
            }
            let (status, hidden) = try await history(recordA, as: "bek")
            let (_, none) = try await history("cccccccccccccccccccccccccccccc03", as: "bek")
            #expect(status == .ok)
            #expect(hidden.changes.isEmpty && none.changes.isEmpty)
            #expect(try await history(recordA, as: "ana").1.changes.map(\.change.hlc) == [a[1].hlc])
            // The file only record A names.
            let uri = "/v1/projects/kz/files/\(file.sha256)/chunks/0"
            let refused = try await client.execute(uri: uri, method: .get, headers: harness.headers("bek"))
            let absent = try await client.execute(uri: "/v1/projects/kz/files/\(TestFile(size: 10, seed: 9).sha256)/chunks/0", method: .get,
                                                  headers: harness.headers("bek"))
            #expect(refused.status == .notFound && absent.status == .notFound)
            #expect(refused.error?.message.replacingOccurrences(of: file.sha256, with: "X")
                    == absent.error?.message.replacingOccurrences(of: TestFile(size: 10, seed: 9).sha256, with: "X"))
            // Its custody events naming record A are left out of Bek's custody log.
            let added = Wire.CustodyEvent(id: "e1", sha256: file.sha256, event: .added, by: "ana", at: ServerHarness.now, record: recordA,
                                          name: "a.jpg", size: 10, replica: "00000000000000a1")
            #expect(try await harness.postCustody(client, as: "ana", [added]).status == .ok)
            #expect(try await harness.custody(client, as: "bek").events.allSatisfy { $0.record != recordA })
            #expect(try await harness.custody(client, as: "ana").events.contains { $0.record == recordA })
            #expect(try await harness.download(client, as: "ana", file) == file.bytes)
            #expect(try await harness.download(client, as: "admin", file) == file.bytes)
        }
    }

    @Test(arguments: StoreKind.allCases) func aPushTouchingAHiddenRecordIsRefusedAndChangesNothing(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let (a, _) = try await restricted(harness, client)
            let before = try await harness.storedHeads()
            var bek = ChangeMaker(node: "00000000000000b2")
            let attempts = [bek.change(recordA, "title", .text("overwritten"), base: a[1].hlc), bek.change(recordA, Change.accessField, .unset),
                            bek.change(recordA, "title", .text("wrong collection"), collection: "persons")]
            let results = try await harness.push(client, as: "bek", attempts).decode(Wire.PushResponse.self).results
            #expect(results.map(\.status) == [.rejected, .rejected, .rejected])
            #expect(Set(results.map(\.code)) == [PushPlanner.unknownRecordCode])
            #expect(results[0].reason == PushPlanner.unknownRecordReason(recordA))
            #expect(try await harness.storedHeads() == before)
        }
    }

    @Test(arguments: StoreKind.allCases) func restrictingLaterHidesTheWholeHistoryAndConcurrentAccessIsTheSafest(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let (_, b) = try await restricted(harness, client)
            var ana = ChangeMaker(node: "00000000000000a1"), bek = ChangeMaker(node: "00000000000000b2")
            ana.millis += 100
            bek.millis += 100
            // Ana restricts B while Bek, who saw it as the team's, leaves its access to the team and edits it.
            let restrict = ana.change(recordB, Change.accessField, .list(["witnesses"]))
            let widen = bek.change(recordB, Change.accessField, .unset)
            let edit = bek.change(recordB, "title", .text("Arrest in Almaty, 5 January"), base: b[0].hlc)
            #expect(try await harness.push(client, as: "bek", [widen, edit]).decode(Wire.PushResponse.self).results.map(\.status) == [.applied, .applied])
            #expect(try await harness.push(client, as: "ana", [restrict]).decode(Wire.PushResponse.self).results.map(\.status) == [.conflict])
            // Both access values are heads: the record is readable only by whoever both let read it.
            #expect(try await harness.pull(client, as: "bek").changes.isEmpty)
            #expect(try await snapshot(harness, client, as: "bek").total == 0)
            #expect(try await harness.pull(client, as: "ana").changes.contains { $0.change.hlc == edit.hlc })
            // An access value naming a group the project lacks is refused.
            let unknown = ana.change(recordB, Change.accessField, .list(["nobody"]), base: restrict.hlc)
            let refused = try await harness.push(client, as: "ana", [unknown]).decode(Wire.PushResponse.self).results
            #expect(refused.map(\.code) == ["invalid"])
            // A new record whose access is refused keeps its values back too: they would reach the whole team.
            let fresh = "cccccccccccccccccccccccccccccc03"
            let typo = try await harness.push(client, as: "ana", [ana.change(fresh, Change.accessField, .list(["witnesess"])),
                                                                  ana.change(fresh, "title", .text("Zhanar's address"))])
            #expect(try typo.decode(Wire.PushResponse.self).results.map(\.code) == ["invalid", "access_refused"])
            #expect(try await harness.pull(client, as: "bek").changes.allSatisfy { $0.change.record != fresh })
        }
    }

    @Test(arguments: StoreKind.allCases) func aPullNamesRecordsLostAndRegainedSinceTheCursor(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let (a, b) = try await restricted(harness, client)
            try await harness.store.changeGroupMember(project: "kz", group: "witnesses", user: "bek", add: true)
            let cursor = try await harness.pull(client, as: "bek").cursor
            #expect(try await harness.pull(client, as: "bek", after: cursor).removed == nil)
            // Bek leaves the group: his next pull names record A to remove, and nothing else.
            try await harness.store.changeGroupMember(project: "kz", group: "witnesses", user: "bek", add: false)
            let lost = try await harness.pull(client, as: "bek", after: cursor)
            #expect(lost.removed == [recordA] && lost.granted == nil && lost.changes.isEmpty)
            #expect(try await harness.pull(client, as: "ana", after: cursor).removed == nil)
            // Restricting B away from him later: named too, from either cursor.
            var ana = ChangeMaker(node: "00000000000000a1")
            ana.millis += 100
            _ = try await harness.push(client, as: "ana", [ana.change(recordB, Change.accessField, .list(["witnesses"]))])
            #expect(try await harness.pull(client, as: "bek", after: cursor).removed == [recordA, recordB])
            #expect(try await harness.pull(client, as: "bek", after: lost.cursor).removed == [recordB])
            // Back in the group: both are granted, and /records serves their whole history to him only.
            try await harness.store.changeGroupMember(project: "kz", group: "witnesses", user: "bek", add: true)
            let regained = try await harness.pull(client, as: "bek", after: lost.cursor)
            #expect(regained.granted == [recordA] && regained.removed == nil)
            func records(as user: String) async throws -> [HLC] {
                let body = try JSONEncoder().encode(Wire.RecordsRequest(records: [recordA, recordB]))
                let response = try await client.execute(uri: "/v1/projects/kz/records", method: .post, headers: harness.headers(user), body: ByteBuffer(bytes: body))
                #expect(response.status == .ok)
                return try response.decode(Wire.RecordsResponse.self).changes.map(\.change.hlc)
            }
            #expect(try await records(as: "bek").count == a.count + b.count + 1)
            #expect(try await records(as: "vera").isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func groupsAreMadeAndListed(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.store.addGroup(project: "kz", name: "witnesses", now: ServerHarness.now)
        await #expect(throws: StoreError.self) { try await harness.store.addGroup(project: "kz", name: "witnesses", now: ServerHarness.now) }
        await #expect(throws: StoreError.self) { try await harness.store.changeGroupMember(project: "kz", group: "witnesses", user: "olga", add: true) }
        await #expect(throws: StoreError.self) { try await harness.store.changeGroupMember(project: "kz", group: "nobody", user: "ana", add: true) }
        try await harness.store.changeGroupMember(project: "kz", group: "witnesses", user: "bek", add: true)
        try await harness.store.changeGroupMember(project: "kz", group: "witnesses", user: "ana", add: true)
        #expect(try await harness.store.groups(project: "kz") == [GroupInfo(name: "witnesses", members: ["ana", "bek"])])
        try await harness.store.changeGroupMember(project: "kz", group: "witnesses", user: "bek", add: false)
        #expect(try await harness.store.groups(project: "kz") == [GroupInfo(name: "witnesses", members: ["ana"])])
        #expect(try await harness.store.groups(project: "other") == [])
    }
}
