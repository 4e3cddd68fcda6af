import Foundation
import TestSupport
import Testing

/// Schema versions end to end, on both stores, with the real programs: an admin adds a field and a
/// term while `serve` runs and a replica is offline with an edit; its next sync picks up the new
/// version, pushes the old edit (accepted) and can use the new field at once; a second server
/// instance serves the new version without a restart; incompatible versions are refused, naming
/// each problem, and the old one keeps serving.
@Suite(.serialized) struct SchemaVersionTests {
    /// The built-in `upr` schema as JSON, changed by `edit`, written to a file in `folder`.
    static func schemaFile(_ folder: URL, _ name: String, _ edit: (inout [String: Any]) throws -> Void) throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/Shared/Resources/upr-schema.json")
        var schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
        try edit(&schema)
        let file = folder.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: schema).write(to: file)
        return file.path
    }

    /// Edits the collection called `name`.
    static func collection(_ schema: inout [String: Any], _ name: String, _ edit: (inout [String: Any]) -> Void) throws {
        var collections = try #require(schema["collections"] as? [[String: Any]])
        let index = try #require(collections.firstIndex { $0["name"] as? String == name })
        edit(&collections[index])
        schema["collections"] = collections
    }

    /// Version 2: a new field `incidents.district` and a new term `violation_status.retracted`.
    static func versionTwo(_ folder: URL) throws -> String {
        try schemaFile(folder, "v2.json") { try makeVersionTwo(&$0) }
    }

    static func makeVersionTwo(_ schema: inout [String: Any]) throws {
        schema["version"] = 2
        try collection(&schema, "incidents") { $0["fields"] = ($0["fields"] as? [[String: Any]] ?? []) + [["name": "district", "type": "text"]] }
        var vocabularies = try #require(schema["vocabularies"] as? [[String: Any]])
        let index = try #require(vocabularies.firstIndex { $0["name"] as? String == "violation_status" })
        vocabularies[index]["terms"] = (vocabularies[index]["terms"] as? [[String: Any]] ?? []) + [["id": "retracted", "label": "Retracted"]]
        schema["vocabularies"] = vocabularies
    }

    func version(_ server: RunningServer) throws -> Int? {
        try server.admin(["project", "show", "kz", "--json"]).object()["schemaVersion"] as? Int
    }

    @Test(arguments: StoreKind.allCases) func aNewFieldReachesAnOfflineReplicaWhoseOldEditsAreStillAccepted(store: StoreKind) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        _ = try ana.syncJSON()
        // Offline: an edit made with version 1.
        let offline = try ana.add("incidents", ["title=Written offline with version 1", "violation_status=alleged"])
        // A second instance on the same store, running before the change.
        let other = RunningServer(sharing: team.server)
        try other.start()
        defer { _ = other.stop() }

        let file = try Self.versionTwo(team.server.data)
        let dry = try team.server.admin(["project", "schema", "kz", file, "--dry-run"])
        #expect(dry.code == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would serve schema upr version 2 (was 1)") && dry.stdout.contains("new field incidents.district"), "\(dry.stdout)")
        #expect(try version(team.server) == 1)
        let applied = try team.server.admin(["project", "schema", "kz", file])
        #expect(applied.code == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("now serves schema upr version 2"), "\(applied.stdout)")
        #expect(try version(team.server) == 2)

        // The offline replica's next sync: the new version first, then its old edit, accepted.
        let sync = try ana.run("sync", "--json")
        #expect(sync.code == 0, "\(sync.stderr)")
        #expect(sync.stderr.contains("schema updated to version 2") && sync.stderr.contains("new field incidents.district"), "\(sync.stderr)")
        #expect(try sync.object()["pushed"] as? Int == 2)  // two fields
        #expect(try ana.ok("schema", "--json").object()["version"] as? Int == 2)
        #expect(try ana.ok("schema").stdout.contains("district: text"))
        // The new field and term at once, offline.
        let id = try ana.add("incidents", ["title=With a district", "district=Almaty", "violation_status=retracted"])
        #expect(try ana.syncJSON()["pushed"] as? Int == 3)

        // A replica of the second instance, which never restarted, gets both records and the new version.
        let late = Researcher("late")
        defer { late.cleanUp() }
        try late.ok("init", "--server", other.url, "--project", "kz", "--token", team.tokens["bek"] ?? "")
        #expect(try late.ok("schema", "--json").object()["version"] as? Int == 2)
        _ = try late.syncJSON()
        let shown = try late.ok("show", id, "--json").object()
        #expect((shown["fields"] as? [String: Any])?["district"] as? String == "Almaty", "\(shown)")
        #expect(try late.ok("list", "incidents", "--json").array().count == 2)
        // A replica made before the change, whose first sync comes after it.
        let bekSync = try bek.run("sync", "--json")
        #expect(bekSync.code == 0 && bekSync.stderr.contains("schema updated to version 2"), "\(bekSync.stderr)")
        #expect(try bek.ok("show", offline, "--json").object()["id"] as? String == offline)
    }

    @Test(arguments: StoreKind.allCases) func anIncompatibleVersionIsRefusedAndTheOldOneKeepsServing(store: StoreKind) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"]
        _ = try ana.add("incidents", ["title=Without a district"])
        _ = try ana.syncJSON()
        #expect(try team.server.admin(["project", "schema", "kz", Self.versionTwo(team.server.data)]).code == 0)

        // A type change and a removed field, each named; nothing changes.
        let incompatible = try Self.schemaFile(team.server.data, "bad.json") { schema in
            schema["version"] = 3
            try Self.collection(&schema, "incidents") { collection in
                var fields = collection["fields"] as? [[String: Any]] ?? []
                fields.removeAll { $0["name"] as? String == "location" }
                if let title = fields.firstIndex(where: { $0["name"] as? String == "title" }) { fields[title]["type"] = "integer" }
                collection["fields"] = fields
            }
        }
        let refused = try team.server.admin(["project", "schema", "kz", incompatible])
        #expect(refused.code == 1)
        #expect(refused.stderr.contains("stays at version 2"), "\(refused.stderr)")
        #expect(refused.stderr.contains("incidents.title changes type from text to integer"), "\(refused.stderr)")
        #expect(refused.stderr.contains("incidents.location is missing"), "\(refused.stderr)")
        #expect(try version(team.server) == 2)

        // The data refuses what the schema alone allows: a field required while records lack it.
        let required = try Self.schemaFile(team.server.data, "required.json") { schema in
            try Self.makeVersionTwo(&schema)
            schema["version"] = 3
            try Self.collection(&schema, "incidents") { collection in
                collection["fields"] = (collection["fields"] as? [[String: Any]] ?? []).map { field in
                    var field = field
                    if field["name"] as? String == "district" { field["required"] = true }
                    return field
                } + [["name": "court", "type": "text"]]
            }
        }
        let dry = try team.server.admin(["project", "schema", "kz", required, "--dry-run", "--json"])
        #expect(dry.code == 1)
        let outcome = try dry.object()
        #expect(outcome["applied"] as? Bool == false)
        #expect((outcome["problems"] as? [String])?.first?.contains("1 record(s) of incidents have no value") == true, "\(outcome)")
        #expect(try team.server.admin(["project", "schema", "kz", required]).code == 1)
        #expect(try version(team.server) == 2)
        // Replicas get version 2, never the refused 3.
        let sync = try ana.run("sync", "--json")
        #expect(sync.code == 0 && sync.stderr.contains("schema updated to version 2") && !sync.stderr.contains("version 3"), "\(sync.stderr)")
        _ = try ana.add("incidents", ["title=Still version 2", "district=Shymkent"])
        #expect(try ana.syncJSON()["pushed"] as? Int == 2)
    }

    @Test func projectListShowAndUserListDescribeTheProject() throws {
        let team = try Team.start([("ana", "researcher"), ("olga", "admin")])
        defer { team.cleanUp() }
        _ = try team["ana"].add("incidents", ["title=Counted"])
        _ = try team["ana"].syncJSON()
        let list = try team.server.admin(["project", "list"])
        #expect(list.stdout.contains("kz  schema upr v1  1 record(s)  2 member(s)"), "\(list.stdout)")
        let shown = try team.server.admin(["project", "show", "kz", "--json"]).object()
        #expect((shown["records"] as? [String: Any])?["incidents"] as? Int == 1)
        #expect((shown["members"] as? [[String: Any]])?.map { "\($0["name"] ?? "") \($0["role"] ?? "")" } == ["ana researcher", "olga admin"])
        let users = try team.server.admin(["user", "list", "--project", "kz"])
        #expect(users.stdout == "ana  researcher\nolga  admin\n", "\(users.stdout)")
        let missing = try team.server.admin(["project", "show", "nowhere"])
        #expect(missing.code == 1 && missing.stderr.contains("no project named 'nowhere'"), "\(missing.stderr)")
    }
}
