import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

@Suite struct PushPullRouteTests {
    @Test(arguments: StoreKind.allCases) func pushAppliesAndARetryChangesNothing(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            let batch = [ana.change(recordA, "title", .text("Journalist arrested")), ana.change(recordA, "location", .text("Алматы"))]
            let first = try await harness.push(client, as: "ana", batch)
            #expect(first.status == .ok)
            let results = try first.decode(Wire.PushResponse.self).results
            #expect(results.map(\.status) == [.applied, .applied])
            #expect(results.map(\.seq) == [1, 2])

            // The response was lost; the replica sends the same batch again.
            let retry = try await harness.push(client, as: "ana", batch)
            #expect(try retry.decode(Wire.PushResponse.self).results.map(\.status) == [.duplicate, .duplicate])
            let pulled = try await harness.pull(client, as: "bek")
            #expect(pulled.changes.count == 2)
            #expect(pulled.changes.map(\.change.author) == ["ana", "ana"])  // the server's name, not the claim
            #expect(pulled.changes.allSatisfy { $0.receivedAt == ServerHarness.now })
            #expect(pulled.cursor == 2)
            #expect(!pulled.more)
        }
    }

    @Test(arguments: StoreKind.allCases) func concurrentEditsBecomeAConflictThatEveryPullerSees(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            var bek = ChangeMaker(node: "000000000000000b")
            let created = ana.change(recordA, "title", .text("Protest"))
            _ = try await harness.push(client, as: "ana", [created])
            let mine = ana.change(recordA, "title", .text("Protest in Almaty"), base: created.hlc)
            let theirs = bek.change(recordA, "title", .text("Protest, January 2022"), base: created.hlc)
            _ = try await harness.push(client, as: "ana", [mine])
            let response = try await harness.push(client, as: "bek", [theirs])
            let result = try #require(try response.decode(Wire.PushResponse.self).results.first)
            #expect(result.status == .conflict)
            let conflictID = try #require(result.conflict)

            // A puller derives the conflict from the changes it pulls: the one the push named.
            let page = try await harness.pull(client, as: "vera")
            var puller = InMemoryReplica()
            for logged in page.changes { puller.apply(logged.change) }
            #expect(puller.conflicts.count == 1)
            let conflict = try #require(puller.conflicts.first)
            #expect(conflict.id == conflictID)
            #expect(Set(conflict.versions.map(\.author)) == ["ana", "bek"])

            // A resolution closes it for the puller too.
            let parents = FieldState(heads: conflict.versions).resolutionParents
            let resolution = bek.change(recordA, "title", .text("Protest in Almaty"), base: parents.base, supersedes: parents.supersedes)
            let resolved = try await harness.push(client, as: "bek", [resolution])
            #expect(try resolved.decode(Wire.PushResponse.self).results.first?.status == .applied)
            let later = try await harness.pull(client, as: "vera", after: page.cursor)
            #expect(later.changes.map(\.change.hlc) == [resolution.hlc])
            for logged in later.changes { puller.apply(logged.change) }
            #expect(puller.conflicts.isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func pagesKeepAnEmptyConflictListForOlderClients(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            var bek = ChangeMaker(node: "000000000000000b")
            let created = ana.change(recordA, "title", .text("Protest"))
            _ = try await harness.push(client, as: "ana", [created])
            // Each replica pushes its own changes (a node id belongs to the user who first pushed it).
            let mine = try await harness.push(client, as: "ana", [ana.change(recordA, "title", .text("Protest in Almaty"), base: created.hlc)])
            let theirs = try await harness.push(client, as: "bek", [bek.change(recordA, "title", .text("Rally"), base: created.hlc)])
            let results = try mine.decode(Wire.PushResponse.self).results + theirs.decode(Wire.PushResponse.self).results
            #expect(results.map(\.status) == [.applied, .conflict])
            // Clients before this version refuse a page without the key, even while a conflict is open.
            let response = try await client.execute(uri: "/v1/projects/kz/pull?after=0", method: .get, headers: harness.headers("vera"))
            let body = String(buffer: response.body)
            #expect(body.contains(#""conflicts":[]"#))
            #expect(body.hasPrefix(#"{"changes":[{"seq":1,"#))
        }
    }

    @Test(arguments: StoreKind.allCases) func aRejectedChangeNeverBlocksTheOthers(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            let batch = [
                ana.change(recordA, "title", .text("ok")),
                ana.change(recordB, "response", .text("accepted"), collection: "recommendations"),
                ana.change(recordB, "colour", .text("red"), collection: "recommendations"),
                ana.change(recordA, "code", .text("P-1"), collection: "persons"),
                ana.change("not-an-id", "title", .text("x")),
                ana.change(recordA, "location", .text("Astana")),
            ]
            let results = try await harness.push(client, as: "ana", batch).decode(Wire.PushResponse.self).results
            #expect(results.map(\.status) == [.applied, .rejected, .rejected, .rejected, .rejected, .applied])
            #expect(results[1].reason?.contains("supported, supported_in_part, noted") == true)
            #expect(results[2].reason?.contains("unknown field 'colour'") == true)
            #expect(results[3].reason?.contains("belongs to incidents") == true)
            #expect(results[4].reason?.contains("not valid") == true)
            #expect(try await harness.pull(client, as: "ana").changes.count == 2)
        }
    }

    @Test(arguments: StoreKind.allCases) func aTimestampReusedForANewRecordIsRefusedNotFatal(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            let first = ana.change(recordA, "title", .text("first"))
            #expect(try await harness.push(client, as: "ana", [first]).decode(Wire.PushResponse.self).results.map(\.status) == [.applied])
            // The replica lost its clock state and stamps a new record's change with the same HLC.
            var reused = first
            reused.record = recordB
            reused.value = .text("second")
            let other = ana.change(recordB, "date", .date("2025-01-02"))
            let response = try await harness.push(client, as: "ana", [reused, other])
            #expect(response.status == .ok)
            let results = try response.decode(Wire.PushResponse.self).results
            #expect(results.map(\.status) == [.rejected, .applied])
            #expect(results.first?.code == "id_reused")
            #expect(try await harness.pull(client, as: "bek").changes.count == 2)

            // Within one batch too: the same change twice is a duplicate, another change with its timestamp is refused.
            let twice = ana.change(recordA, "location", .text("Almaty"))
            var clash = twice
            clash.value = .text("Astana")
            let batch = try await harness.push(client, as: "ana", [twice, twice, clash]).decode(Wire.PushResponse.self).results
            #expect(batch.map(\.status) == [.applied, .duplicate, .rejected])
            #expect(batch.last?.code == "id_reused")
            #expect(try await harness.pull(client, as: "bek").changes.count == 3)
        }
    }

    @Test(arguments: StoreKind.allCases) func aChangeStampedTooFarAheadIsRefusedAndTheServerClockIgnoresIt(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store) { $0.maxDriftMillis = 60_000 }
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var future = ChangeMaker(node: "00000000000000ff")
            future.millis = ServerHarness.now + 365 * 24 * 3_600_000
            let results = try await harness.push(client, as: "ana", [future.change(recordA, "title", .text("from the future"))])
                .decode(Wire.PushResponse.self)
            #expect(results.results.first?.status == .rejected)
            #expect(results.results.first?.code == "clock_ahead")
            #expect(results.results.first?.reason?.contains("ahead of the server's clock") == true)
            #expect(results.serverTime == ServerHarness.now)
            #expect(try await harness.pull(client, as: "ana").changes.isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func malformedBodiesGet400NamingTheField(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let cases: [(String, String)] = [
                ("{not json", "not valid JSON"),
                (#"{"changes": 5}"#, "changes: expected a list"),
                (#"{"changes":[{"collection":"incidents","record":"\#(recordA)","field":"date","hlc":"0194a0000000-0000-aa","value":{"type":"date","value":"2025-02-30"}}]}"#,
                 "changes[0].value"),
                (#"{"changes":[{"collection":"incidents","record":"\#(recordA)","field":"title","hlc":"nope","value":{"type":"text","value":"x"}}]}"#,
                 "changes[0].hlc"),
                (#"{"changes":[{"collection":"incidents","record":"\#(recordA)","field":"title","hlc":"0194a0000000-0000-aa","value":{"type":"colour","value":"x"}}]}"#,
                 "unknown value type"),
            ]
            for (body, expected) in cases {
                let response = try await client.execute(uri: "/v1/projects/kz/push", method: .post, headers: harness.headers("ana"), body: ByteBuffer(string: body))
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.error?.message.contains(expected) == true, "\(response.error?.message ?? "") should mention \(expected)")
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func limitsAnswer413WithTheLimitAndLargePagesAreServedInPieces(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store) {
            $0.maxBatch = 3
            $0.maxPage = 5
            $0.maxBodyBytes = 4_096
        }
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            let tooMany = (0..<4).map { ana.change(recordA, "title", .text("v\($0)")) }
            let batch = try await harness.push(client, as: "ana", tooMany)
            #expect(batch.status == .contentTooLarge)
            #expect(batch.error?.message.contains("at most 3 changes") == true)

            let big = [ana.change(recordA, "description", .text(String(repeating: "x", count: 5_000)))]
            let body = try await harness.push(client, as: "ana", big)
            #expect(body.status == .contentTooLarge)
            #expect(body.error?.message.contains("4096 bytes") == true)

            // A client asking for larger pages than this server serves gets pages of the server's size.
            for round in 0..<2 {
                let fields = (0..<3).map { ana.change(round == 0 ? recordA : recordB, ["title", "location", "description"][$0], .text("r\(round)")) }
                #expect(try await harness.push(client, as: "ana", fields).status == .ok)
            }
            let first = try await harness.pull(client, as: "ana", limit: 6)
            #expect(first.changes.count == 5 && first.more && first.cursor == 5)
            let rest = try await harness.pull(client, as: "ana", after: first.cursor, limit: 10_000)
            #expect(rest.changes.count == 1 && !rest.more)
            let bad = try await client.execute(uri: "/v1/projects/kz/pull?after=x", method: .get, headers: harness.headers("ana"))
            #expect(bad.status == .badRequest)
        }
    }

    @Test(arguments: StoreKind.allCases) func pullPagesFollowTheCursorAndANoOpPullIsEmpty(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            var previous: HLC?
            var batch: [Change] = []
            for i in 0..<25 {
                let change = ana.change(recordA, "title", .text("v\(i)"), base: previous)
                previous = change.hlc
                batch.append(change)
            }
            _ = try await harness.push(client, as: "ana", batch)
            var cursor: Int64 = 0
            var seen: [Int64] = []
            while true {
                let page = try await harness.pull(client, as: "bek", after: cursor, limit: 10)
                seen += page.changes.map(\.seq)
                cursor = page.cursor
                if !page.more { break }
            }
            #expect(seen == Array(1...25))
            let empty = try await harness.pull(client, as: "bek", after: cursor)
            #expect(empty.changes.isEmpty && !empty.more && empty.cursor == cursor)
            // A cursor beyond the log (a server restored from an older backup) is refused, not
            // answered with an empty page that would hide changes 26...30 once they are pushed.
            let ahead = try await client.execute(uri: "/v1/projects/kz/pull?after=30", method: .get, headers: harness.headers("bek"))
            #expect(ahead.status == .conflict)
            #expect(ahead.error?.message.contains("restored from an older backup") == true)
        }
    }

    @Test(arguments: StoreKind.allCases) func theSnapshotCarriesOnlyCurrentVersions(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            var previous: HLC?
            for i in 0..<10 {
                let change = ana.change(recordA, "title", .text("v\(i)"), base: previous)
                previous = change.hlc
                _ = try await harness.push(client, as: "ana", [change])
            }
            _ = try await harness.push(client, as: "ana", [ana.change(recordB, "title", .text("other"))])
            var after = ""
            var heads: [Wire.LoggedChange] = []
            var since: Int64 = -1
            repeat {
                let response = try await client.execute(uri: "/v1/projects/kz/snapshot?limit=1&after=\(after)", method: .get, headers: harness.headers("bek"))
                let page = try response.decode(Wire.SnapshotResponse.self)
                if since < 0 { since = page.since }
                heads += page.changes
                after = page.next?.text ?? ""
            } while !after.isEmpty
            #expect(since == 11)
            #expect(heads.map(\.change.value) == [.text("v9"), .text("other")])
        }
    }

    @Test(arguments: StoreKind.allCases) func aFailedWriteKeepsNothingOfTheBatch(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            let batch = [ana.change(recordA, "title", .text("one")), ana.change(recordB, "title", .text("two"))]
            harness.faults.failNext("push")
            let failed = try await harness.push(client, as: "ana", batch)
            #expect(failed.status == .serviceUnavailable)
            #expect(failed.error?.message.contains("try again") == true)
            #expect(try await harness.pull(client, as: "ana").changes.isEmpty)
            let retried = try await harness.push(client, as: "ana", batch)
            #expect(try retried.decode(Wire.PushResponse.self).results.map(\.status) == [.applied, .applied])
        }
    }

    @Test(arguments: StoreKind.allCases) func deleteVersusEditIsReportedAsAConflict(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            var ana = ChangeMaker(node: "000000000000000a")
            var bek = ChangeMaker(node: "000000000000000b")
            let created = ana.change(recordA, "title", .text("Incident"))
            _ = try await harness.push(client, as: "ana", [created])
            let delete = ana.change(recordA, Change.deletedField, .bool(true), covers: [created.hlc])
            let edit = bek.change(recordA, "title", .text("Incident, edited"), base: created.hlc)
            #expect(try await harness.push(client, as: "ana", [delete]).decode(Wire.PushResponse.self).results.first?.status == .applied)
            let result = try await harness.push(client, as: "bek", [edit]).decode(Wire.PushResponse.self).results.first
            #expect(result?.status == .conflict)
            let page = try await harness.pull(client, as: "ana")
            var puller = InMemoryReplica()
            for logged in page.changes { puller.apply(logged.change) }
            #expect(puller.conflicts.map(\.field) == [Change.deletedField])
            #expect(puller.conflicts.first?.id == result?.conflict)
        }
    }

    @Test(arguments: StoreKind.allCases) func realHTTPRoundTrip(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.live) { client in
            // Over a socket of its own with a long read limit (`RawHTTP`): the test client's 20 s were
            // too short for a machine running the whole suite.
            let port = try #require(client.port)
            var ana = ChangeMaker(node: "000000000000000a")
            let push = try JSONEncoder().encode(try ServerHarness.signedPush([ana.change(recordA, "title", .text("over the wire"))], as: "ana"))
            let pushed = try await RawHTTP.request(port, "POST", "/v1/projects/kz/push", token: harness.tokens["ana"] ?? "", body: push)
            #expect(pushed.status == "HTTP/1.1 200 OK")
            #expect(try JSONDecoder().decode(Wire.PushResponse.self, from: pushed.body).results.map(\.status) == [.applied])
            let pulled = try await RawHTTP.request(port, "GET", "/v1/projects/kz/pull?after=0", token: harness.tokens["bek"] ?? "")
            #expect(pulled.status == "HTTP/1.1 200 OK")
            #expect(try JSONDecoder().decode(Wire.PullResponse.self, from: pulled.body).changes.first?.change.value == .text("over the wire"))
        }
    }
}
