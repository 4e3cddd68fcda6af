import Foundation
import GRDB
import TestSupport
import Testing

/// Faults from the field, with the real programs: each ends with every replica converged,
/// nothing lost, nothing duplicated, and `PRAGMA integrity_check` ok on every database.
@Suite(.serialized) struct FaultTests {
    /// A CSV of `count` incidents, each with a title, a date and a location (3 changes a record),
    /// written into `researcher`'s folder; returns its path.
    static func incidentsCSV(_ count: Int, tag: String, for researcher: Researcher) throws -> String {
        var text = "title,date,location\n"
        for i in 0..<count { text += "\(tag) incident \(i),2025-01-\(String(format: "%02d", i % 28 + 1)),Алматы \(i)\n" }
        return try researcher.file("\(tag).csv", text)
    }

    /// SQLite's integrity check on a database the test can open directly (the server's store).
    static func integrityOK(_ path: String) throws -> Bool {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"]
    }

    /// `casebook verify`: every page of the (encrypted) replica authenticates and SQLite's integrity check passes.
    static func integrityOK(_ person: Researcher) throws -> Bool {
        let verified = try person.run("verify", "--json")
        return verified.code == 0 && (try? verified.object()["failures"] as? [Any])?.isEmpty == true
    }

    /// Rows of the server's change log, and how many distinct HLCs they hold (duplicates would differ).
    static func serverLog(_ server: RunningServer) throws -> (rows: Int, distinct: Int) {
        let queue = try DatabaseQueue(path: server.data.appendingPathComponent("casebook.sqlite").path)
        return try queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT hlc) FROM change") ?? -2)
        }
    }

    /// Starts `casebook` without waiting for it.
    static func launch(_ researcher: Researcher, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = Programs.products.appendingPathComponent("casebook")
        process.environment = Programs.environment()
        process.arguments = arguments + ["--home", researcher.home.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Syncs until it succeeds (exit 0), as a person would after a failure.
    static func syncUntilDone(_ researcher: Researcher, attempts: Int = 60) throws -> Int {
        for attempt in 1...attempts {
            let result = try researcher.run("sync", "--json")
            if result.code == 0 { return attempt }
            #expect(result.code == 3, "sync failed with \(result.code): \(result.stderr)")
        }
        Issue.record("sync never completed")
        return attempts
    }

    func checkConverged(_ people: [Researcher], server: RunningServer, records: Int) throws {
        let exports = try people.map { try $0.export("incidents") }
        for export in exports { #expect(export == exports[0]) }
        let listed = try people[0].ok("list", "incidents", "--json").array()
        #expect(listed.count == records)
        for person in people {
            #expect(try person.ok("status", "--json").object()["pending"] as? Int == 0)
            #expect(try Self.integrityOK(person))
        }
        let log = try Self.serverLog(server)
        #expect(log.rows == log.distinct)
        #expect(log.rows == records * 3)
        #expect(try Self.integrityOK(server.data.appendingPathComponent("casebook.sqlite").path))
    }

    @Test func theServerKilledDuringPushesFromThreeReplicasLosesNothing() throws {
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher"), ("bek", "researcher"), ("cem", "researcher")])
        try server.start()
        let port = Int(server.url.split(separator: ":").last ?? "0") ?? 0
        let people = ["ana", "bek", "cem"].map(Researcher.init)
        defer { people.forEach { $0.cleanUp() } }
        for person in people {
            try person.initialize(server: server, token: tokens[person.name])
            try person.ok("import", "incidents", try Self.incidentsCSV(1_500, tag: person.name, for: person))
        }
        let syncs = try people.map { try Self.launch($0, ["sync", "--batch-size", "500"]) }
        // Kill as soon as the first batches are stored, whatever the machine's speed.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try? Self.serverLog(server).rows) ?? 0 == 0 { Thread.sleep(forTimeInterval: 0.01) }
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        for sync in syncs { sync.waitUntilExit() }
        #expect(try Self.integrityOK(server.data.appendingPathComponent("casebook.sqlite").path))
        // The kill really landed in the middle: some work was still pending, some already stored.
        let pending = try people.map { try $0.ok("status", "--json").object()["pending"] as? Int ?? 0 }.reduce(0, +)
        let stored = try Self.serverLog(server).rows
        print("server killed with \(pending) changes pending and \(stored) stored")
        #expect(pending > 0)
        #expect(stored > 0)

        let restarted = RunningServer(sharing: server)
        defer { restarted.stop() }
        try restarted.start(port: port)
        for person in people { _ = try Self.syncUntilDone(person) }
        for person in people { _ = try Self.syncUntilDone(person) }
        try checkConverged(people, server: restarted, records: 4_500)
    }

    @Test func aClientKilledMidPushAndMidPullCompletesNextTime() throws {
        let team = try Team.start()
        defer { team.cleanUp() }
        let server = team.server, ana = team["ana"], bek = team["bek"]
        try ana.ok("import", "incidents", try Self.incidentsCSV(3_000, tag: "ana", for: ana))
        // Killed while pushing, at a few different moments.
        for delay in [0.15, 0.3] {
            let sync = try Self.launch(ana, ["sync", "--batch-size", "1000"])
            Thread.sleep(forTimeInterval: delay)
            kill(sync.processIdentifier, SIGKILL)
            sync.waitUntilExit()
            #expect(try Self.integrityOK(ana))
            print("push killed after \(delay) s: \(try ana.ok("status", "--json").object()["pending"] ?? "?") pending, \(try Self.serverLog(server).rows) stored")
        }
        _ = try Self.syncUntilDone(ana)
        // Killed while pulling.
        for delay in [0.3, 0.7] {
            let sync = try Self.launch(bek, ["sync"])
            Thread.sleep(forTimeInterval: delay)
            kill(sync.processIdentifier, SIGKILL)
            sync.waitUntilExit()
            #expect(try Self.integrityOK(bek))
            print("pull killed after \(delay) s: \(try bek.ok("list", "incidents", "--json").array().count) records received")
        }
        _ = try Self.syncUntilDone(bek)
        try checkConverged([ana, bek], server: server, records: 3_000)
    }

    @Test func connectionsCutPartWayAreRetriedUntilDoneWithoutDuplicates() throws {
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher"), ("bek", "researcher")])
        try server.start()
        let port = Int(server.url.split(separator: ":").last ?? "0") ?? 0
        let proxy = try ChaosProxy(upstreamPort: port, seed: 7)
        defer { proxy.stop() }
        let viaProxy = "http://127.0.0.1:\(proxy.port)"
        let ana = Researcher("ana"), bek = Researcher("bek")
        defer { ana.cleanUp(); bek.cleanUp() }
        for (person, token) in [(ana, tokens["ana"]), (bek, tokens["bek"])] {
            var done = false
            for _ in 0..<40 where !done {
                done = try person.run("init", "--server", viaProxy, "--project", "kz", "--token", token ?? "").code == 0
            }
            #expect(done)
        }
        try ana.ok("import", "incidents", try Self.incidentsCSV(800, tag: "ana", for: ana))
        try bek.ok("import", "incidents", try Self.incidentsCSV(400, tag: "bek", for: bek))
        var attempts = 0
        for person in [ana, bek, ana, bek] { attempts += try Self.syncUntilDone(person, attempts: 200) }
        #expect(proxy.cuts > 0)
        #expect(attempts > 4)  // some syncs really were cut
        try checkConverged([ana, bek], server: server, records: 1_200)
    }

    /// The same over TLS: a connection cut during the handshake or mid-answer is the network
    /// (exit 3, tried again), never a certificate problem (exit 1), and the pin holds throughout.
    @Test func connectionsCutPartWayOverTLSAreTheNetworkNotTheCertificate() throws {
        let authority = try TestAuthority()
        defer { authority.cleanUp() }
        let issued = try authority.issue("server")
        let server = try RunningServer()
        defer { server.cleanUp() }
        let token = try server.setUp(users: [("ana", "researcher")])["ana"] ?? ""
        try server.start(extra: ["--tls-cert", issued.certificate, "--tls-key", issued.key])
        let proxy = try ChaosProxy(upstreamPort: Int(server.url.split(separator: ":").last ?? "0") ?? 0, seed: 11)
        defer { proxy.stop() }
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        var initialized = false
        for _ in 0..<40 where !initialized {
            let result = try ana.run("init", "--server", "https://127.0.0.1:\(proxy.port)", "--project", "kz", "--token", token,
                                     "--ca-cert", authority.certificate)
            initialized = result.code == 0
            #expect(result.code == 0 || result.code == 3, "init failed with \(result.code): \(result.stderr)")
        }
        #expect(initialized)
        try ana.ok("import", "incidents", try Self.incidentsCSV(300, tag: "ana", for: ana))
        let attempts = try Self.syncUntilDone(ana, attempts: 200)
        #expect(proxy.cuts > 0)
        print("synced over TLS through the cutting proxy after \(attempts) attempts, \(proxy.cuts) cuts")
        #expect(try ana.ok("status", "--json").object()["serverKey"] as? String == TestAuthority.fingerprint(issued.certificate))
        #expect(try Self.serverLog(server).rows == 900)
    }

    @Test(arguments: StoreKind.allCases) func fiveHundredConcurrentConflictingEditsLoseNoUpdate(store: StoreKind) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        try ana.ok("import", "incidents", try Self.incidentsCSV(500, tag: "base", for: ana))
        _ = try ana.syncJSON()
        _ = try bek.syncJSON()
        // Both rewrite the location of all 500 records offline (a bulk edit through import by id).
        let exported = try ana.ok("export", "incidents").stdout
        for person in [ana, bek] {
            let edited = exported.replacingOccurrences(of: "Алматы", with: "\(person.name)-Astana")
            try person.ok("import", "incidents", try person.file("edit.csv", edited))
            // Only the locations changed: re-importing the other cells stages nothing.
            #expect(try person.ok("status", "--json").object()["pending"] as? Int == 500)
        }
        // Both push at the same moment.
        let syncs = try [ana, bek].map { try Self.launch($0, ["sync"]) }
        for sync in syncs { sync.waitUntilExit() }
        #expect(syncs.allSatisfy { $0.terminationStatus == 0 })
        _ = try ana.syncJSON()
        _ = try bek.syncJSON()
        for person in [ana, bek] {
            let conflicts = try person.conflicts()
            #expect(conflicts.count == 500)
            // Every losing value is in its conflict: nothing anyone typed is gone.
            for conflict in conflicts {
                let values = Set((conflict["values"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String })
                #expect(values.count == 2)
                #expect(values.contains { $0.hasPrefix("ana-Astana") } && values.contains { $0.hasPrefix("bek-Astana") })
            }
        }
        #expect(try ana.export("incidents") == bek.export("incidents"))
    }
}


