import Foundation
import GRDB
import TestSupport
import Testing

/// Bundles with the real programs, as researchers meet them in a shutdown and as someone who finds,
/// alters or forges the file does: work crosses by file both ways, conflicts and all; the replica
/// that reaches the network relays the other's changes, credited to their author; every replica
/// converges with nothing twice; a bundle altered, cut, for someone else, or from a device that is
/// unknown or revoked is refused with nothing applied; a server that forked history is caught.
@Suite(.serialized) struct BundleTests {
    /// A team of three whose first two synced once (so each knows the other's device); cara joins later.
    func team(_ store: StoreKind = .sqlite) throws -> Team {
        let team = try Team.start([("ana", "researcher"), ("bek", "researcher"), ("cara", "researcher")], store: store)
        _ = try team["ana"].syncJSON()
        _ = try team["bek"].syncJSON()
        _ = try team["ana"].syncJSON()
        return team
    }

    /// A researcher who joins the project after the others made their device lists.
    func latecomer(_ team: Team, _ name: String = "dana") throws -> Researcher {
        let added = try team.server.admin(["user", "add", name, "--project", "kz", "--role", "researcher", "--json"])
        let token = try added.object()["token"] as? String
        let person = Researcher(name)
        try person.initialize(server: team.server, token: token)
        return person
    }

    /// Revokes the device of `owner` in project kz, as an admin does when a laptop is lost.
    func revokeDevice(of owner: String, _ team: Team) throws {
        let listed = try team.server.admin(["device", "list", "--project", "kz", "--json"])
        let devices = try #require(listed.object()["devices"] as? [[String: Any]])
        let node = try #require(devices.first { $0["owner"] as? String == owner }?["node"] as? String)
        #expect(try team.server.admin(["device", "revoke", node]).code == 0)
    }

    /// A path for a bundle file in the researcher's folder.
    func bundlePath(_ person: Researcher, _ name: String = "work.cbb") -> String {
        person.home.appendingPathComponent(name).path
    }

    @Test(arguments: StoreKind.allCases) func workCrossesByBundleAndTheRelayCreditsItsAuthor(store: StoreKind) throws {
        let team = try team(store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"], cara = team["cara"]
        let id = try ana.add("incidents", ["title=Arrest at the court"])
        _ = try ana.syncJSON()
        _ = try bek.syncJSON()

        // The network is down: both edit the same field, Ana also records a new incident.
        try ana.ok("edit", id, "--set", "title=Arrest of three lawyers")
        let added = try ana.add("incidents", ["title=Detention at the border post", "location=Khorgos"])
        try bek.ok("edit", id, "--set", "title=Arrest of two lawyers")
        let path = bundlePath(ana)
        let made = try ana.ok("bundle", "create", path, "--json").object()
        #expect(made["changes"] as? Int ?? 0 >= 4, "\(made)")
        #expect(made["files"] as? Int == 0)
        // Published in the bundle, not yet on the server: still pending.
        #expect(try ana.ok("show", added, "--json").object()["pending"] as? Bool == true)
        #expect(try ana.ok("status", "--json").object()["pending"] as? Int ?? 0 >= 3)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for secret in ["Khorgos", "Detention at the border", "three lawyers", "Arrest at the court"] {
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) is readable in the bundle")
        }

        let applied = try bek.ok("bundle", "apply", path, "--json").object()
        #expect(applied["applied"] as? Int ?? 0 >= 3, "\(applied)")
        #expect(applied["conflicts"] as? Int == 1)
        #expect(try bek.ok("show", added, "--json").object()["fields"].map { "\($0)" }?.contains("Khorgos") == true)
        let again = try bek.ok("bundle", "apply", path, "--json").object()
        #expect(again["applied"] as? Int == 0)
        #expect(again["conflicts"] as? Int == 1)

        // Bek reaches the network first: Ana's changes go with his, credited to Ana.
        let relayed = try bek.syncJSON()
        #expect(relayed["relayed"] as? Int ?? 0 >= 3, "\(relayed)")
        _ = try cara.syncJSON()
        let log = try cara.ok("log", added, "--json").array()
        #expect(!log.isEmpty && log.allSatisfy { $0["author"] as? String == "ana" }, "\(log)")
        #expect(try cara.conflicts().count == 1)

        // Ana syncs later: what she published is already there, nothing twice.
        _ = try ana.syncJSON()
        _ = try bek.syncJSON()
        _ = try cara.syncJSON()
        #expect(try ana.ok("status", "--json").object()["pending"] as? Int == 0)
        #expect(try ana.ok("show", added, "--json").object()["pending"] as? Bool == false)
        let exports = try [ana, bek, cara].map { try $0.export("incidents") }
        #expect(exports[0] == exports[1] && exports[1] == exports[2])
        for person in [ana, bek, cara] {
            #expect(try person.ok("list", "incidents", "--json").array().count == 2)
            #expect(try person.conflicts().count == 1)
            let history = try person.ok("log", id, "--json").array()
            let entries = history.map { "\($0["field"] ?? "")=\($0["value"] ?? "")" }
            #expect(Set(entries).count == entries.count, "\(person.name): \(entries)")
            #expect(try person.run("verify", "--json").code == 0)
        }
    }

    @Test func anAlteredCutOrMisaddressedBundleIsRefusedWithNothingApplied() throws {
        let team = try team()
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"], cara = team["cara"]
        _ = try ana.add("incidents", ["title=Arrest at the court"])
        let path = bundlePath(ana)
        try ana.ok("bundle", "create", path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        var variants: [(String, Data)] = [("cut", bytes.prefix(bytes.count - 20)), ("cut at half", bytes.prefix(bytes.count / 2))]
        for position in [20, 40, 200, bytes.count / 2, bytes.count - 30] {
            var altered = bytes
            altered[position] ^= 0x20
            variants.append(("byte \(position) flipped", altered))
        }
        for (what, data) in variants {
            let file = bek.home.appendingPathComponent("bad.cbb")
            try data.write(to: file)
            let result = try bek.run("bundle", "apply", file.path)
            #expect(result.code == 1, "\(what)")
            #expect(result.stderr.hasPrefix("error: "), "\(what): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal"), "\(what)")
        }
        #expect(try bek.ok("list", "incidents", "--json").array().isEmpty)

        // Dana joined after Ana last fetched the devices: Ana's bundle is not for her device.
        let dana = try latecomer(team)
        defer { dana.cleanUp() }
        try dana.ok("sync")
        let foreign = try dana.run("bundle", "apply", path)
        #expect(foreign.code == 1)
        #expect(foreign.stderr.contains("not addressed to this device"), "\(foreign.stderr)")
        #expect(try dana.ok("list", "incidents", "--json").array().isEmpty)
        _ = cara

        // Not a bundle at all.
        let csv = try bek.file("rows.csv", "title\nArrest\n")
        #expect(try bek.run("bundle", "apply", csv).stderr.contains("not a Casebook bundle"))
    }

    @Test func aBundleFromAnUnknownOrRevokedDeviceIsRefused() throws {
        let team = try team()
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"], cara = team["cara"]
        // Dana's device joined after Bek last fetched the devices: her bundle's maker is unknown to him.
        let dana = try latecomer(team)
        defer { dana.cleanUp() }
        _ = try dana.syncJSON()
        _ = try dana.add("incidents", ["title=Arrest at the court"])
        let fromDana = bundlePath(dana)
        try dana.ok("bundle", "create", fromDana)
        let unknown = try bek.run("bundle", "apply", fromDana)
        #expect(unknown.code == 1)
        #expect(unknown.stderr.contains("does not know"), "\(unknown.stderr)")

        // Ana's device is revoked; Bek learns it at his next sync that brings something, and refuses her bundle.
        _ = try ana.add("incidents", ["title=Detention at the border post"])
        let fromAna = bundlePath(ana)
        try ana.ok("bundle", "create", fromAna)
        try revokeDevice(of: "ana", team)
        _ = try cara.add("incidents", ["title=Search of an office"])
        _ = try cara.syncJSON()
        _ = try bek.syncJSON()
        let revoked = try bek.run("bundle", "apply", fromAna)
        #expect(revoked.code == 1)
        #expect(revoked.stderr.contains("revoked"), "\(revoked.stderr)")
        #expect(try bek.ok("list", "incidents", "--json").array().count == 1)
    }

    /// A change from a device an admin revoked after it went into a bundle: the replica that relays it
    /// is refused for that device only (its own work still reaches the server, the queue empties), and
    /// a replica that applies a bundle carrying it leaves it out, saying so.
    @Test func aRevokedDevicesRelayedChangesAreLeftOutWithoutHoldingBackTheOthers() throws {
        let team = try team()
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"], cara = team["cara"]
        _ = try cara.syncJSON()
        _ = try ana.add("incidents", ["title=Detention at the border post"])
        let fromAna = bundlePath(ana)
        try ana.ok("bundle", "create", fromAna)
        #expect(try cara.ok("bundle", "apply", fromAna, "--json").object()["relay"] as? Int == 1)
        let own = try cara.add("incidents", ["title=Search of an office"])
        let fromCara = bundlePath(cara, "cara.cbb")
        try cara.ok("bundle", "create", fromCara)

        try revokeDevice(of: "ana", team)

        // Cara's sync relays both: the server refuses Ana's device and takes Cara's own change.
        let synced = try cara.run("sync", "--json")
        #expect(synced.code == 0, "\(synced.stderr)")
        #expect(synced.stderr.contains("refused a change relayed from a bundle") && synced.stderr.contains("revoked"), "\(synced.stderr)")
        #expect(try cara.ok("status", "--json").object()["pending"] as? Int == 0)
        #expect(try cara.ok("show", own, "--json").object()["pending"] as? Bool == false)
        let again = try cara.run("sync", "--json")
        #expect(again.code == 0 && !again.stderr.contains("relayed"), "the queue still holds Ana's change: \(again.stderr)")

        // Bek learns of the revocation at his sync (it brings Cara's change) and leaves Ana's out of Cara's bundle.
        _ = try bek.syncJSON()
        let applied = try bek.run("bundle", "apply", fromCara, "--json")
        #expect(applied.code == 0, "\(applied.stderr)")
        #expect(applied.stderr.contains("left out 1 change signed by devices an admin revoked"), "\(applied.stderr)")
        #expect(try applied.object()["relay"] as? Int == 0)
        #expect(try bek.ok("list", "incidents", "--json").array().map { $0["id"] as? String } == [own])
    }

    /// A refusal that is about the relaying user (a viewer may not push at all), not about a device or
    /// author of the changes, keeps the relay queue whole: nobody's changes are dropped, the sync still pulls.
    @Test func aRelayRefusedForTheRelayingUserKeepsTheQueue() throws {
        let team = try team()
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        let added = try team.server.admin(["user", "add", "vera", "--project", "kz", "--role", "viewer", "--json"])
        let vera = Researcher("vera")
        try vera.initialize(server: team.server, token: try added.object()["token"] as? String)
        defer { vera.cleanUp() }
        _ = try vera.syncJSON()
        _ = try bek.add("incidents", ["title=Search of an office"])
        _ = try bek.syncJSON()
        _ = try ana.syncJSON()  // it brings Bek's record, so Ana fetches the devices again: Vera's, to seal for
        _ = try ana.add("incidents", ["title=Detention at the border post"])
        let path = bundlePath(ana)
        try ana.ok("bundle", "create", path)
        #expect(try vera.ok("bundle", "apply", path, "--json").object()["relay"] as? Int == 1)
        for _ in 0..<2 {
            let synced = try vera.run("sync", "--json")
            #expect(synced.code == 0, "\(synced.stderr)")
            #expect(synced.stderr.contains("stay queued"), "\(synced.stderr)")
            #expect(!synced.stderr.contains("refused a change relayed"), "\(synced.stderr)")
        }
        // The pull went on: Bek's record reached her.
        #expect(try vera.ok("list", "incidents", "--json").array().count == 2)
    }

    /// A bundle's changes pass the checks of a pulled page: one made with a schema version the reader
    /// does not have yet (a new field) is refused with nothing applied, and applies once it synced.
    @Test func aChangeTheReadersSchemaRefusesRefusesTheBundleUntilItSyncs() throws {
        let team = try team()
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        _ = try bek.add("incidents", ["title=Written by Bek offline"])
        #expect(try team.server.admin(["project", "schema", "kz", SchemaVersionTests.versionTwo(team.server.data)]).code == 0)
        _ = try ana.syncJSON()
        let id = try ana.add("incidents", ["title=Arrest at the court", "district=Medeu"])
        let path = bundlePath(ana)
        try ana.ok("bundle", "create", path)

        let refused = try bek.run("bundle", "apply", path)
        #expect(refused.code == 1)
        #expect(refused.stderr.contains("schema refuses") && refused.stderr.contains("sync once and apply the bundle again"), "\(refused.stderr)")
        #expect(try bek.ok("list", "incidents", "--json").array().count == 1)
        #expect(try bek.ok("status", "--json").object()["pending"] as? Int == 1, "Bek's own edit was published by a refused apply")

        _ = try bek.syncJSON()
        #expect(try bek.ok("bundle", "apply", path, "--json").object()["applied"] as? Int ?? 0 >= 2)
        let fields = try bek.ok("show", id, "--json").object()["fields"] as? [String: Any]
        #expect(fields?["district"] as? String == "Medeu", "\(String(describing: fields))")
    }

    @Test func aServerThatForkedHistoryIsCaughtWhenTwoReplicasMeetByBundle() throws {
        let team = try team()
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        _ = try ana.add("incidents", ["title=Arrest at the court"])
        _ = try ana.syncJSON()
        // The server drops Ana's change before Bek sees it, and numbers Bek's in its place.
        let queue = try DatabaseQueue(path: team.server.data.appendingPathComponent("casebook.sqlite").path)
        let dropped = try queue.write { db -> Int64 in
            let seq = try Int64.fetchOne(db, sql: "SELECT last_seq FROM project WHERE name = 'kz'") ?? 0
            try db.execute(sql: "DELETE FROM head WHERE hlc IN (SELECT hlc FROM change WHERE seq = ?)", arguments: [seq])
            try db.execute(sql: "DELETE FROM change WHERE seq = ?", arguments: [seq])
            try db.execute(sql: "UPDATE project SET last_seq = ? WHERE name = 'kz'", arguments: [seq - 1])
            return seq
        }
        #expect(dropped > 0)
        _ = try bek.add("incidents", ["title=Detention at the border post"])
        _ = try bek.syncJSON()
        let path = bundlePath(ana)
        try ana.ok("bundle", "create", path)
        let forked = try bek.run("bundle", "apply", path)
        #expect(forked.code == 1)
        #expect(forked.stderr.contains("forked"), "\(forked.stderr)")
        #expect(try bek.ok("list", "incidents", "--json").array().count == 1)
    }
}

extension BundleTests {
    /// A courier's bundle whose last part (the server loads 1,000 changes at a time) holds a change
    /// of a device an admin revoked since: refused whole, before anything of it is stored.
    @Test func aBundleLoadRefusedLateInTheFileLoadsNothing() throws {
        let team = try team()
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"], cara = team["cara"]
        _ = try cara.syncJSON()
        try cara.ok("import", "incidents", try FaultTests.incidentsCSV(400, tag: "cara", for: cara))
        // Made after Cara's records, so it comes after them in the bundle (records in key order).
        _ = try ana.add("incidents", ["title=Detention at the border post"])
        let fromAna = bundlePath(ana)
        try ana.ok("bundle", "create", fromAna)
        #expect(try cara.ok("bundle", "apply", fromAna, "--json").object()["relay"] as? Int == 1)
        let fromCara = bundlePath(cara, "cara.cbb")
        try cara.ok("bundle", "create", fromCara)
        try revokeDevice(of: "ana", team)

        let refused = try team.server.admin(["bundle", "apply", fromCara, "--project", "kz"])
        #expect(refused.code != 0)
        #expect(refused.stderr.contains("revoked") && refused.stderr.contains("nothing was loaded"), "\(refused.stderr)")
        _ = try bek.syncJSON()
        #expect(try bek.ok("list", "incidents", "--json").array().isEmpty, "part of the refused bundle reached the server")
    }

    @Test(arguments: StoreKind.allCases) func aCourierLoadsABundleStraightIntoTheServer(store: StoreKind) throws {
        let team = try team(store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        let id = try ana.add("incidents", ["title=Detention at the border post", "location=Khorgos"])
        let path = bundlePath(ana)
        try ana.ok("bundle", "create", path)

        let loaded = try team.server.admin(["bundle", "apply", path, "--project", "kz", "--json"])
        #expect(loaded.code == 0, "\(loaded.stderr)")
        let result = try loaded.object()
        #expect(result["applied"] as? Int ?? 0 >= 2, "\(result)")
        let again = try team.server.admin(["bundle", "apply", path, "--project", "kz", "--json"]).object()
        #expect(again["applied"] as? Int == 0)
        #expect(again["duplicates"] as? Int == result["applied"] as? Int)

        _ = try bek.syncJSON()
        let log = try bek.ok("log", id, "--json").array()
        #expect(!log.isEmpty && log.allSatisfy { $0["author"] as? String == "ana" }, "\(log)")
        _ = try ana.syncJSON()
        #expect(try ana.ok("status", "--json").object()["pending"] as? Int == 0)
        #expect(try ana.export("incidents") == bek.export("incidents"))

        // A bundle for another project, or an altered one, is refused with nothing loaded.
        #expect(try team.server.admin(["project", "create", "other"]).code == 0)
        let foreign = try team.server.admin(["bundle", "apply", path, "--project", "other"])
        #expect(foreign.code == 1)
        #expect(foreign.stderr.hasPrefix("error: "), "\(foreign.stderr)")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 1
        let altered = ana.home.appendingPathComponent("altered.cbb")
        try bytes.write(to: altered)
        let refused = try team.server.admin(["bundle", "apply", altered.path, "--project", "kz"])
        #expect(refused.code == 1)
        #expect(refused.stderr.contains("altered"), "\(refused.stderr)")
    }
}

extension BundleTests {
    @Test func attachedFilesTravelInTheBundleSealedAndReachTheServerThroughTheRelay() throws {
        let team = try team()
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"], cara = team["cara"]
        let id = try ana.add("incidents", ["title=Search of an office"])
        let statement = "Statement of the witness: the police took two laptops at 09:40."
        let file = try ana.file("statement.txt", String(repeating: statement + "\n", count: 2_000))
        try ana.ok("attach", id, file)
        let path = bundlePath(ana)
        let made = try ana.ok("bundle", "create", path, "--json").object()
        #expect(made["files"] as? Int == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).range(of: Data("took two laptops".utf8)) == nil)

        try bek.ok("bundle", "apply", path)
        let files = try bek.ok("files", id, "--json").array()
        #expect(files.count == 1 && files.first?["local"] as? Bool == true, "\(files)")
        let sha256 = try #require(files.first?["sha256"] as? String)
        let out = bek.home.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try bek.ok("extract", sha256, "--to", out.path)
        #expect(try Data(contentsOf: out.appendingPathComponent("statement.txt")) == Data(contentsOf: URL(fileURLWithPath: file)))

        // Bek's sync uploads the file with Ana's changes; Cara fetches it from the server.
        _ = try bek.syncJSON()
        _ = try cara.syncJSON()
        #expect(try cara.ok("fetch", id, "--json").object()["fetched"] as? Int == 1)
        #expect(try cara.run("verify", "--json").code == 0)
    }
}
