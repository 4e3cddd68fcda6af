import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// A pull page that announces a newer schema: the replica fetches it before it checks the page,
/// keeps it and uses its new field at once; a version that would change what stored values mean
/// is refused, and nothing of the page is applied.
@Suite struct SchemaUpdateTests {
    static let other = NodeID("00000000000000b2")!

    /// One page (seq 1) with `change`, announcing schema `version`, from a server whose schema is `schema`.
    func sync(_ change: Change, version: Int, schema: Schema) async throws -> (error: ClientError?, cursor: String?, kept: Schema) {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        try await local.replica.write { db in try Setting.set(.snapshotDone, "1", db) }
        let logged = Wire.LoggedChange(seq: 1, change: change, receivedAt: HostileServer.now)
        let server = HostileServer(pull: { _ in
            Wire.PullResponse(changes: [logged], cursor: 1, more: false, latest: 1, serverTime: HostileServer.now, schemaVersion: version)
        })
        server.schema = schema
        let syncer = Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
        var failure: ClientError?
        do { _ = try await syncer.run() } catch let error as ClientError { failure = error }
        let (cursor, text) = try await local.replica.read { db in (try Setting.get(.cursor, db), try Setting.get(.schema, db)) }
        return (failure, cursor, try Schema.fromJSON(Data((text ?? "").utf8)))
    }

    func incidents(_ edit: (inout CollectionSchema) -> Void) -> Schema {
        var schema = Schema.upr
        schema.version = 2
        let index = schema.collections.firstIndex { $0.name == "incidents" }!
        edit(&schema.collections[index])
        return schema
    }

    func change(_ field: String, _ value: FieldValue) -> Change {
        Change(collection: "incidents", record: String(format: "%032x", 7), field: field, value: value,
               hlc: HLC(millis: HostileServer.now - 1_000, counter: 0, node: Self.other), author: "bek", base: nil)
    }

    @Test func aNewFieldIsKnownBeforeThePageThatUsesItIsChecked() async throws {
        let result = try await sync(change("district", .text("Almaty")),
                                    version: 2, schema: incidents { $0.fields.append(FieldSchema(name: "district", type: .text)) })
        #expect(result.error == nil, "\(String(describing: result.error))")
        #expect(result.cursor == "1")
        #expect(result.kept.version == 2 && result.kept.collection("incidents")?.field("district") != nil)
    }

    /// The second snapshot page is fetched, and its changes checked, while the first is applied,
    /// against the schema the sync held then: when that page announces a newer one, its changes are
    /// checked again against the newer one (`FetchedPage`).
    @Test func aSnapshotPageAnnouncingANewerSchemaIsCheckedAgainstIt() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let first = Wire.LoggedChange(seq: 1, change: change("title", .text("Protest")), receivedAt: HostileServer.now)
        var district = change("district", .text("Almaty"))
        district.hlc = HLC(millis: HostileServer.now - 1_000, counter: 1, node: Self.other)
        let second = Wire.LoggedChange(seq: 2, change: district, receivedAt: HostileServer.now)
        let server = HostileServer(snapshot: { after in
            after == nil
                ? Wire.SnapshotResponse(changes: [first], since: 0, next: first.change.hlc, total: 2, serverTime: HostileServer.now, schemaVersion: 1)
                : Wire.SnapshotResponse(changes: [second], since: 0, next: nil, total: nil, serverTime: HostileServer.now, schemaVersion: 2)
        })
        server.schema = incidents { $0.fields.append(FieldSchema(name: "district", type: .text)) }
        let syncer = Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
        var failure: ClientError?
        do { _ = try await syncer.run() } catch let error as ClientError { failure = error }
        #expect(failure == nil, "\(String(describing: failure))")
        let values = try await local.replica.read { db in try String.fetchAll(db, sql: "SELECT value FROM current ORDER BY field") }
        #expect(values == ["t:Almaty", "t:Protest"])
    }

    @Test func aVersionThatChangesWhatValuesMeanIsRefusedAndNothingApplied() async throws {
        let retyped = incidents { collection in
            let title = collection.fields.firstIndex { $0.name == "title" }!
            collection.fields[title].type = .integer
        }
        let result = try await sync(change("title", .integer(5)), version: 2, schema: retyped)
        #expect(result.error?.message.contains("does not follow this replica's version 1") == true, "\(String(describing: result.error))")
        #expect(result.error?.message.contains("incidents.title changes type from text to integer") == true)
        #expect(result.cursor == "0" && result.kept.version == 1)
        // A server announcing a version it does not serve is refused too.
        let behind = try await sync(change("title", .text("x")), version: 3, schema: incidents { _ in })
        #expect(behind.error?.message.contains("the pull said 3") == true, "\(String(describing: behind.error))")
        #expect(behind.cursor == "0" && behind.kept.version == 1)
    }

    @Test func pendingChangesMadeWithAnOlderVersionArePushedNamingIt() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let newer = incidents { $0.fields.append(FieldSchema(name: "district", type: .text)) }
        // Nothing pending: the new version is simply the replica's.
        try await local.replica.adoptSchema(newer, previous: .upr)
        #expect(try await local.replica.pushSchemaVersion(current: newer) == 2)
        // Pending changes made with version 2 when version 3 arrives: their push names 2 until they are sent.
        _ = try local.add(["title": .text("Written with version 2")])
        var third = newer
        third.version = 3
        try await local.replica.adoptSchema(third, previous: newer)
        #expect(try await local.replica.pushSchemaVersion(current: third) == 2)
        try await local.replica.write { db in try db.execute(sql: "DELETE FROM outbox") }
        #expect(try await local.replica.pushSchemaVersion(current: third) == 3)
        #expect(try await local.replica.read { db in try Setting.get(.outboxSchemaVersion, db) } == nil)
    }
}
