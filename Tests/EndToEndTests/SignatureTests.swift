import Crypto
import Foundation
import GRDB
import TestSupport
import Testing

/// Signed changes with the real programs: a change altered in the server's store is refused by the
/// next puller, one altered in a replica's database is reported by `verify`, and a revoked device's
/// new changes are refused.
@Suite(.serialized) struct SignatureTests {
    /// Alters the stored values of the server's log that contain `text`.
    static func alterServerStore(_ server: RunningServer, _ text: String, to other: String) throws {
        let sql = "UPDATE change SET value = replace(value, '\(text)', '\(other)') WHERE value LIKE '%\(text)%'"
        if let database = server.database {
            _ = try database.psql(sql)
        } else {
            let queue = try DatabaseQueue(path: server.data.appendingPathComponent("casebook.sqlite").path)
            try queue.write { db in try db.execute(sql: sql) }
        }
    }

    @Test(arguments: StoreKind.allCases) func aChangeAlteredInTheServersStoreIsRefusedByTheNextPuller(store: StoreKind) throws {
        let team = try Team.start([("ana", "researcher"), ("bek", "researcher"), ("cara", "researcher")], store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"], cara = team["cara"]
        _ = try ana.add("incidents", ["title=Arrest at the court"])
        _ = try ana.syncJSON()
        _ = try bek.syncJSON()
        #expect(try bek.run("verify", "--json").object()["signed"] as? Int == 1)

        // A later change, altered in the store before Bek pulls it: refused, nothing applied.
        let second = try ana.add("incidents", ["title=Detention of a lawyer"])
        _ = try ana.syncJSON()
        try Self.alterServerStore(team.server, "Detention", to: "Release")
        // The attacker recomputes the log's hash chain (it has no secret), so that only the
        // signature can tell.
        try RewrittenLogTests().rechain(team.server)
        let pulled = try bek.run("sync")
        #expect(pulled.code == 1)
        #expect(pulled.stderr.hasPrefix("error: "))
        #expect(pulled.stderr.contains("incidents \(second) field title"), "\(pulled.stderr)")
        #expect(pulled.stderr.contains("signature"))
        #expect(try bek.ok("list", "incidents", "--json").array().count == 1)

        // A new replica's snapshot carries the altered change too: refused, nothing applied.
        let first = try cara.run("sync")
        #expect(first.code == 1)
        #expect(first.stderr.contains("field title"), "\(first.stderr)")
        #expect(try cara.ok("list", "incidents", "--json").array().isEmpty)
    }

    @Test func aChangeAlteredInAReplicasDatabaseIsReportedByVerify() throws {
        let team = try Team.start()
        defer { team.cleanUp() }
        let plain = Researcher("plain")
        defer { plain.cleanUp() }
        try plain.ok("init", "--server", team.server.url, "--project", "kz", "--token", team.tokens["bek"] ?? "", "--no-passphrase")
        let id = try plain.add("incidents", ["title=Arrest at the court", "location=Алматы"])
        _ = try plain.syncJSON()
        let before = try plain.run("verify", "--json").object()
        #expect(before["signed"] as? Int == 2)
        #expect((before["failures"] as? [Any])?.isEmpty == true)

        let queue = try DatabaseQueue(path: plain.home.appendingPathComponent("replica.sqlite").path)
        try queue.write { db in try db.execute(sql: "UPDATE change SET value = replace(value, 'Arrest', 'Release') WHERE field = 'title'") }
        let after = try plain.run("verify", "--json")
        #expect(after.code == 1)
        let failures = try #require(after.object()["failures"] as? [[String: Any]])
        #expect(failures.count == 1)
        #expect((failures.first?["id"] as? String)?.hasPrefix("\(id) title") == true, "\(failures)")
        #expect(after.stderr.hasPrefix("error: "))
    }

    @Test(arguments: StoreKind.allCases) func aRevokedDevicesNewChangesAreRefused(store: StoreKind) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        _ = try ana.add("incidents", ["title=Before the revocation"])
        _ = try ana.syncJSON()
        let listed = try team.server.admin(["device", "list", "--project", "kz", "--json"])
        let devices = try #require(listed.object()["devices"] as? [[String: Any]])
        let node = try #require(devices.first { $0["owner"] as? String == "ana" }?["node"] as? String)
        #expect(try team.server.admin(["device", "revoke", node]).code == 0)
        #expect(try team.server.admin(["device", "revoke", node]).code == 1)  // nothing left to revoke

        _ = try ana.add("incidents", ["title=After the revocation"])
        let refused = try ana.run("sync")
        #expect(refused.code == 1)
        #expect(refused.stderr.contains("revoked"), "\(refused.stderr)")
        #expect(try ana.ok("status", "--json").object()["pending"] as? Int == 1)
        _ = try bek.syncJSON()
        #expect(try bek.ok("list", "incidents", "--json").array().count == 1)
    }

    @Test func aReplicaFromBeforeSignaturesGetsItsKeyAtItsNextSync() throws {
        let team = try Team.start()
        defer { team.cleanUp() }
        let old = Researcher("old")
        defer { old.cleanUp() }
        try old.ok("init", "--server", team.server.url, "--project", "kz", "--token", team.tokens["bek"] ?? "", "--no-passphrase")
        _ = try old.add("incidents", ["title=Written before the upgrade"])
        // As an older version left it: no key in the replica, no device on the server.
        let replica = try DatabaseQueue(path: old.home.appendingPathComponent("replica.sqlite").path)
        try replica.write { db in try db.execute(sql: "DELETE FROM setting WHERE key IN ('signing_key', 'device_registered')") }
        let store = try DatabaseQueue(path: team.server.data.appendingPathComponent("casebook.sqlite").path)
        try store.write { db in try db.execute(sql: "DELETE FROM device") }

        #expect(try old.syncJSON()["pushed"] as? Int == 1)
        let listed = try team.server.admin(["device", "list", "--project", "kz", "--json"])
        #expect((try listed.object()["devices"] as? [[String: Any]])?.contains { $0["owner"] as? String == "bek" } == true)
        _ = try team["ana"].syncJSON()
        #expect(try team["ana"].ok("list", "incidents", "--json").array().count == 1)
        #expect(try old.run("verify", "--json").object()["signed"] as? Int == 1)
    }

    @Test func everyReplicaRegistersASignedAgreementKeyAndOneFromBeforeAddsItAtItsNextSync() throws {
        let team = try Team.start()
        defer { team.cleanUp() }
        let old = Researcher("old"), peer = Researcher("peer")
        defer { old.cleanUp(); peer.cleanUp() }
        try old.ok("init", "--server", team.server.url, "--project", "kz", "--token", team.tokens["bek"] ?? "", "--no-passphrase")
        // As an older version left it: no agreement key in the replica or on the server.
        let replica = try DatabaseQueue(path: old.home.appendingPathComponent("replica.sqlite").path)
        try replica.write { db in try db.execute(sql: "DELETE FROM setting WHERE key IN ('agreement_key', 'agreement_registered')") }
        let node = try #require(try replica.read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'node'") })
        let store = try DatabaseQueue(path: team.server.data.appendingPathComponent("casebook.sqlite").path)
        try store.write { db in try db.execute(sql: "UPDATE device SET agreement_key = NULL, agreement_signature = NULL WHERE node = ?", arguments: [node]) }
        func agreementKeys() throws -> [String: String] {
            let devices = try #require(try team.server.admin(["device", "list", "--project", "kz", "--json"]).object()["devices"] as? [[String: Any]])
            return Dictionary(uniqueKeysWithValues: devices.compactMap { device in
                (device["agreementKey"] as? String).map { (device["node"] as? String ?? "", $0) }
            })
        }
        #expect(try agreementKeys().count == 2)  // the team's replicas of ana and bek registered theirs at init
        #expect(try agreementKeys()[node] == nil)

        _ = try old.syncJSON()
        let registered = try #require(try agreementKeys()[node])
        // The key is the one now in the replica, and another replica keeps it once its signature is checked.
        let stored = try replica.read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'agreement_key'") }
        let privateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: try #require(stored.flatMap { Data(base64Encoded: $0) }))
        #expect(privateKey.publicKey.rawRepresentation.base64EncodedString() == registered)
        try peer.ok("init", "--server", team.server.url, "--project", "kz", "--token", team.tokens["ana"] ?? "", "--no-passphrase")
        _ = try peer.syncJSON()
        let kept = try DatabaseQueue(path: peer.home.appendingPathComponent("replica.sqlite").path).read { db in
            try Data.fetchOne(db, sql: "SELECT agreement_key FROM device WHERE node = ?", arguments: [node])
        }
        #expect(kept == privateKey.publicKey.rawRepresentation)
    }
}
