import Foundation
import TestSupport
import Testing

/// A PostgreSQL store that cannot be reached, refuses the login, hangs, or goes away while serving:
/// a clear error within seconds, never a hang, and nothing a researcher typed is lost. Also how
/// the commands are told which store to use.
@Suite(.serialized) struct PostgresOutageTests {
    /// Runs an admin command and returns its result and how long it took.
    private func timed(_ arguments: [String]) throws -> (Programs.Result, Double) {
        let start = Date()
        let result = try Programs.run("casebook-server", arguments)
        return (result, Date().timeIntervalSince(start))
    }

    @Test func badURLsWrongPasswordsAndDeadHostsFailFastWithAClearMessage() throws {
        let database = try TestPostgres.Database()
        defer { database.drop() }
        let url = try #require(URLComponents(string: database.url))
        let host = url.host ?? "127.0.0.1", port = url.port ?? 5432, user = url.user ?? "", path = url.path
        let closedPort = try { let listener = try SilentListener(); listener.stop(); return listener.port }()
        let silent = try SilentListener()
        defer { silent.stop() }
        let cases: [(String, [String], String)] = [
            ("wrong password", ["--database-url", "postgres://\(user):wrong-password@\(host):\(port)\(path)"], "refused the password of user"),
            ("no such database", ["--database-url", "postgres://\(user):\(url.password ?? "")@\(host):\(port)/no_such_database"], "database 'no_such_database' does not exist"),
            ("nothing listening", ["--database-url", "postgres://\(user)@127.0.0.1:\(closedPort)/x"], "connection refused"),
            ("a host that never answers", ["--database-url", "postgres://\(user)@127.0.0.1:\(silent.port)/x", "--database-timeout", "3"], "answer"),
            ("not a postgres URL", ["--database-url", "mysql://\(user)@\(host)/x"], "must start with postgres://"),
            ("an unknown option", ["--database-url", "postgres://\(user)@\(host)/x?ssl=true"], "option 'ssl' is not supported"),
        ]
        for (what, arguments, message) in cases {
            let (result, seconds) = try timed(["project", "create", "kz"] + arguments)
            #expect(result.code == 1, "\(what): exit \(result.code)")
            #expect(result.stderr.contains(message), "\(what): \(result.stderr)")
            #expect(seconds < 12, "\(what) took \(seconds) s")
            // The password never appears in what is printed.
            #expect(!result.stderr.contains("wrong-password"))
        }
        let (served, seconds) = try timed(["serve", "--port", "0", "--database-url", "postgres://\(user)@127.0.0.1:\(silent.port)/x", "--database-timeout", "3"])
        #expect(served.code == 1 && served.stderr.contains("answer"), "\(served.stderr)")
        #expect(seconds < 12)
    }

    @Test func theDatabaseGoingAwayWhileServingGives503AndSyncingWorksWhenItIsBack() throws {
        let database = try TestPostgres.Database()
        defer { database.drop() }
        var url = try #require(URLComponents(string: database.url))
        let postgresPort = url.port ?? 5432
        // The server reaches PostgreSQL through a proxy that the test can take down.
        var proxy = try ChaosProxy(upstreamPort: postgresPort, seed: 1, passPercent: 100)
        let proxyPort = proxy.port
        defer { proxy.stop() }
        url.port = proxyPort
        let throughProxy = try #require(url.string)
        let server = try RunningServer(databaseURL: throughProxy)
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher")])
        try server.start(extra: ["--database-timeout", "3", "--database-pool-size", "1"])
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        try ana.initialize(server: server, token: tokens["ana"])
        _ = try ana.add("incidents", ["title=Before the outage", "date=2025-03-01"])
        #expect(try ana.syncJSON()["pushed"] as? Int == 2)

        // A silent network first (nothing answers, nothing closes), and more requests than the pool
        // has connections: each fails in time, and none keeps a connection when it gives up.
        proxy.freeze(true)
        for _ in 0..<2 {
            let silent = try ana.run("sync")
            #expect(silent.code == 3, "exit \(silent.code): \(silent.stderr)")
        }
        proxy.freeze(false)
        #expect(try ana.run("sync").code == 0, "the server did not recover from a silent database")

        proxy.stop()
        _ = try ana.add("incidents", ["title=During the outage", "date=2025-03-02"])
        let start = Date()
        let failed = try ana.run("sync")
        #expect(Date().timeIntervalSince(start) < 15, "a sync during an outage must not hang")
        #expect(failed.code == 3, "exit \(failed.code): \(failed.stderr)")
        #expect(failed.stderr.contains("database"), "\(failed.stderr)")
        // The details (the database's address, PostgreSQL's own message) are for the server's log only.
        #expect(!failed.stderr.contains("127.0.0.1:\(proxyPort)"))
        #expect(server.logText.contains("PostgreSQL"))
        #expect(try ana.ok("status", "--json").object()["pending"] as? Int == 2)
        #expect(server.process.isRunning)

        proxy = try ChaosProxy(upstreamPort: postgresPort, seed: 2, passPercent: 100, listenPort: proxyPort)
        // The pool reconnects on its own: a researcher who tries again soon gets through.
        var synced: Programs.Result?
        for _ in 0..<30 {
            let attempt = try ana.run("sync", "--json")
            if attempt.code == 0 { synced = attempt; break }
            Thread.sleep(forTimeInterval: 1)
        }
        let result = try #require(synced, "sync never worked again after the database came back")
        #expect(try result.object()["pushed"] as? Int == 2)
        #expect(try ana.ok("status", "--json").object()["pending"] as? Int == 0)
    }

    @Test func theEnvironmentNamesTheDatabaseAndAnExplicitDataFolderWins() throws {
        let database = try TestPostgres.Database()
        defer { database.drop() }
        let environment = ["CASEBOOK_DATABASE_URL": database.url]
        let created = try Programs.run("casebook-server", ["project", "create", "kz"], environment: environment)
        #expect(created.code == 0, "\(created.stderr)")
        #expect(try database.psql("SELECT name FROM project") == "kz\n")
        // --data on the command line wins over the environment: the project goes to that folder.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-env-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let local = try Programs.run("casebook-server", ["project", "create", "local", "--data", folder.path], environment: environment)
        #expect(local.code == 0, "\(local.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("casebook.sqlite").path))
        #expect(try database.psql("SELECT count(*) FROM project") == "1\n")
        // Both on the command line: refused, naming both.
        let both = try Programs.run("casebook-server", ["project", "create", "x", "--data", folder.path, "--database-url", database.url])
        #expect(both.code == 64, "\(both.stderr)")
        #expect(both.stderr.contains("--data and --database-url"))
    }
}
