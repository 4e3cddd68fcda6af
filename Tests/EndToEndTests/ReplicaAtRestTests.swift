import Foundation
import Testing

/// The replica at rest, met the way an attacker meets it: a laptop taken at a border, read byte by
/// byte; a passphrase guessed; a command line watched. And the researcher's side: unlock, lock,
/// change the passphrase, wipe, encrypt an old replica.
@Suite(.serialized) struct ReplicaAtRestTests {
    /// Every file under `folders`, read whole.
    static func everyFile(under folders: [URL], since: Date? = nil) -> [(path: String, bytes: Data)] {
        var found: [(String, Data)] = []
        let keys: Set<URLResourceKey> = [.isRegularFileKey, .contentModificationDateKey]
        for folder in folders {
            guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: Array(keys)) else { continue }
            for case let url as URL in walker {
                guard let values = try? url.resourceValues(forKeys: keys), values.isRegularFile == true else { continue }
                if let since, (values.contentModificationDate ?? .distantPast) < since { continue }
                if let data = FileManager.default.contents(atPath: url.path) { found.append((url.path, data)) }
            }
        }
        return found
    }

    /// The secrets of `needles` found in any file under `folders` (changed since `since`, when given), as "secret in path".
    static func plaintext(_ needles: [String], under folders: [URL], since: Date? = nil) -> [String] {
        var hits: [String] = []
        for (path, bytes) in everyFile(under: folders, since: since) {
            for needle in needles where bytes.range(of: Data(needle.utf8)) != nil { hits.append("\(needle) in \(path)") }
        }
        return hits
    }

    /// A project whose name, users, token, server address and records are all recognisable.
    struct Seized {
        let server: RunningServer
        let zhanar: Researcher
        let timur: Researcher
        let needles: [String]

        /// Every recognisable value carries `tag`, unique to the run, so that another test's deliberately
        /// unencrypted replica with similar words (the storage layer's own seized-laptop test) is never
        /// mistaken for a leak of this one.
        static func make(initArguments: [String] = []) throws -> Seized {
            let tag = String(UUID().uuidString.prefix(8)).lowercased()
            let project = "almaty-watch-\(tag)", zhanarbekova = "zhanarbekova-\(tag)", timurlanov = "timurlanov-\(tag)"
            let server = try RunningServer()
            let tokens = try server.setUp(project: project, users: [(zhanarbekova, "researcher"), (timurlanov, "researcher")])
            try server.start()
            let zhanar = Researcher("zhanar"), timur = Researcher("timur")
            for (person, user) in [(zhanar, zhanarbekova), (timur, timurlanov)] {
                try person.ok(["init", "--server", server.url, "--project", project, "--token", tokens[user] ?? ""] + initArguments)
            }
            // Enough rows that the WAL holds pages before and after a checkpoint (the CSV is removed before anyone looks).
            let incident = try zhanar.add("incidents", ["title=Detained at Kalkaman-\(tag) checkpoint", "description=Witness Aigerim Nurlanovna-\(tag) saw the arrest"])
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-csv-\(UUID().uuidString).csv")
            var csv = "title,date\n"
            for index in 0..<3_000 { csv += "Protest registry entry \(index) Zhibek-Zholy-\(tag),2025-01-0\(index % 9 + 1)\n" }
            try Data(csv.utf8).write(to: scratch)
            try zhanar.ok(["import", "incidents", scratch.path])
            try? FileManager.default.removeItem(at: scratch)
            try zhanar.ok("sync")
            try timur.ok("sync")
            try timur.ok("edit", incident, "--set", "title=Detained at Kalkaman-\(tag) checkpoint, released")
            try timur.ok("list", "incidents", "--where", "date=2025-01-03")
            let host = URL(string: server.url)?.host ?? "127.0.0.1"
            let port = URL(string: server.url)?.port.map(String.init) ?? ""
            return Seized(server: server, zhanar: zhanar, timur: timur, needles: [
                "Kalkaman-\(tag)", "Aigerim Nurlanovna-\(tag)", "Zhibek-Zholy-\(tag)", zhanarbekova, timurlanov, project,
                "\(host):\(port)", tokens[zhanarbekova] ?? "?", tokens[timurlanov] ?? "?",
            ])
        }

        func cleanUp() {
            server.cleanUp()
            zhanar.cleanUp()
            timur.cleanUp()
        }
    }

    /// The temporary folders SQLite could write to.
    static var temporaryFolders: [URL] {
        ["/var/tmp", "/usr/tmp", "/tmp", ProcessInfo.processInfo.environment["SQLITE_TMPDIR"], ProcessInfo.processInfo.environment["TMPDIR"]]
            .compactMap { $0 }.map { URL(fileURLWithPath: $0) }.filter { FileManager.default.fileExists(atPath: $0.path) }
    }

    @Test func aSeizedLaptopShowsNoRecordNameTokenProjectOrServer() throws {
        let start = Date().addingTimeInterval(-2)
        let seized = try Seized.make()
        defer { seized.cleanUp() }
        // The replicas' folders, and the temp folders (minus the server's, which is not on the laptop).
        let homes = [seized.zhanar.home, seized.timur.home]
        let hits = Self.plaintext(seized.needles, under: homes)
        #expect(hits.isEmpty, "plaintext under the replica folders: \(hits)")
        let names = Self.everyFile(under: homes).map { URL(fileURLWithPath: $0.path).lastPathComponent }
        #expect(!names.contains("token") && !names.contains("ca.pem"), "\(names)")
        // Files written to the temporary folders while the replicas worked (not the server's data folder, which is
        // not on the laptop, nor the test harness's captured output).
        let tempHits = Self.plaintext(seized.needles, under: Self.temporaryFolders, since: start)
            .filter { !$0.contains(seized.server.data.path) && !$0.contains("casebook-run-") && !$0.contains("swift-generated-sources") }
        #expect(tempHits.isEmpty, "plaintext in a temporary folder: \(tempHits)")
    }

    /// The same attacker against a replica made with --no-passphrase finds everything: the test above can fail.
    @Test func theSameSearchFindsAnUnencryptedReplicasContent() throws {
        let seized = try Seized.make(initArguments: ["--no-passphrase"])
        defer { seized.cleanUp() }
        let hits = Self.plaintext(seized.needles, under: [seized.zhanar.home])
        #expect(hits.contains { $0.hasPrefix("Kalkaman") } && hits.contains { $0.hasPrefix("almaty-watch") }, "\(hits)")
    }

    @Test func aLockedReplicaSaysHowToUnlockAndAWrongPassphraseChangesNothing() throws {
        let team = try Team.start([("ana", "researcher")])
        defer { team.cleanUp() }
        let ana = team["ana"]
        let id = try ana.add("incidents", ["title=kept"])
        let locked = try ana.run(["status"], environment: ["CASEBOOK_PASSPHRASE": ""])
        #expect(locked.code == 4, "\(locked.stderr)")
        #expect(locked.stderr.hasPrefix("error: the replica is locked: ") && locked.stderr.contains("casebook unlock"), "\(locked.stderr)")

        let before = Self.everyFile(under: [ana.home]).filter { !$0.path.hasSuffix("unlock-failures") }.map { $0.bytes }
        let wrong = try ana.run(["edit", id, "--set", "title=changed"], environment: ["CASEBOOK_PASSPHRASE": "not the passphrase"])
        #expect(wrong.code == 4 && wrong.stderr.contains("wrong passphrase"), "\(wrong.stderr)")
        let after = Self.everyFile(under: [ana.home]).filter { !$0.path.hasSuffix("unlock-failures") }.map { $0.bytes }
        #expect(before == after, "a wrong passphrase changed the replica's files")
        // Each wrong guess in a row waits longer before it is answered (1 s, 2 s, ...).
        let start = Date()
        let again = try ana.run(["status"], environment: ["CASEBOOK_PASSPHRASE": "still not it"])
        #expect(again.code == 4 && again.stderr.contains("2 in a row"), "\(again.stderr)")
        #expect(Date().timeIntervalSince(start) >= 2, "the second wrong guess was not slowed down")
        // Killing a wrong guess while it waits saves nothing: the next attempt waits out the rest first.
        let guess = Process()
        guess.executableURL = Programs.products.appendingPathComponent("casebook")
        guess.arguments = ["status", "--home", ana.home.path]
        guess.environment = Programs.environment(["CASEBOOK_PASSPHRASE": "a third wrong guess"])
        guess.standardOutput = FileHandle.nullDevice
        guess.standardError = FileHandle.nullDevice
        try guess.run()
        let failures = ana.home.appendingPathComponent("unlock-failures")
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !((try? String(contentsOf: failures, encoding: .utf8))?.hasPrefix("3 ") ?? false) { usleep(20_000) }
        kill(guess.processIdentifier, SIGKILL)
        guess.waitUntilExit()
        let killedAt = Date()
        let shown = try ana.ok("show", id, "--json").object()
        #expect(Date().timeIntervalSince(killedAt) >= 3, "the wait after the third wrong guess (4 s) was skipped by killing it")
        #expect((shown["fields"] as? [String: Any])?["title"] as? String == "kept")
    }

    /// `--passphrase-file` reads a pipe as well as a file: `<(pass show casebook)` keeps the passphrase off the disk.
    @Test func aPassphraseFileMayBeAPipe() throws {
        let team = try Team.start([("ana", "researcher")])
        defer { team.cleanUp() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "\"$0\" status --json --home \"$1\" --passphrase-file <(printf '%s\\n' \"$2\")",
                             Programs.products.appendingPathComponent("casebook").path, team["ana"].home.path, Programs.passphrase]
        process.environment = Programs.environment(["CASEBOOK_PASSPHRASE": ""])
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && text.contains("\"pending\""), "\(problems)")
    }

    @Test func aPassphraseOnTheCommandLineIsRefused() throws {
        let team = try Team.start([("ana", "researcher")])
        defer { team.cleanUp() }
        let refused = try team["ana"].run(["status", "--passphrase", "hunter2-secret"])
        #expect(refused.code == 64, "\(refused.stderr)")
        #expect(refused.stderr.contains("never taken on the command line") && !refused.stderr.contains("hunter2-secret"), "\(refused.stderr)")
    }

    @Test func unlockKeepsTheKeyUntilLockOrItsTimeIsUp() throws {
        let team = try Team.start([("ana", "researcher")])
        defer { team.cleanUp() }
        let ana = team["ana"]
        let noPassphrase = ["CASEBOOK_PASSPHRASE": ""]
        let unlocked = try ana.run(["unlock", "--for", "30m"])
        #expect(unlocked.code == 0 && unlocked.stdout.contains("unlocked until"), "\(unlocked.stderr)")
        let id = try ana.run(["add", "incidents", "--set", "title=while unlocked", "--json"], environment: noPassphrase)
        #expect(id.code == 0, "\(id.stderr)")
        #expect(try ana.run(["lock"], environment: noPassphrase).stdout.contains("locked"))
        #expect(try ana.run(["status"], environment: noPassphrase).code == 4)

        #expect(try ana.run(["unlock", "--for", "2s"]).code == 0)
        #expect(try ana.run(["status"], environment: noPassphrase).code == 0)
        var code: Int32 = 0
        for _ in 0..<40 where code == 0 {
            Thread.sleep(forTimeInterval: 0.25)
            code = try ana.run(["status"], environment: noPassphrase).code
        }
        #expect(code == 4, "the key outlived its time")
    }

    @Test func changingThePassphraseKeepsTheDataAndOnlyTheNewOneOpensIt() throws {
        let team = try Team.start([("ana", "researcher")])
        defer { team.cleanUp() }
        let ana = team["ana"]
        let id = try ana.add("incidents", ["title=before the change"])
        let changed = try ana.run(["passphrase"], environment: ["CASEBOOK_NEW_PASSPHRASE": "a brand new passphrase here"])
        #expect(changed.code == 0, "\(changed.stderr)")
        #expect(try ana.run(["show", id]).code == 4, "the old passphrase still opens it")
        let shown = try ana.run(["show", id, "--json"], environment: ["CASEBOOK_PASSPHRASE": "a brand new passphrase here"])
        #expect(shown.code == 0 && shown.stdout.contains("before the change"), "\(shown.stderr)")
    }

    /// A change of passphrase killed at any moment leaves the old or the new one working, never neither.
    @Test func aPassphraseChangeKilledAtAnyMomentLeavesOneWorking() throws {
        let team = try Team.start([("ana", "researcher")])
        defer { team.cleanUp() }
        let ana = team["ana"]
        var current = Programs.passphrase
        for round in 0..<12 {
            let next = "passphrase number \(round) of the kill test"
            let process = Process()
            process.executableURL = Programs.products.appendingPathComponent("casebook")
            process.arguments = ["passphrase", "--home", ana.home.path]
            process.environment = Programs.environment(["CASEBOOK_PASSPHRASE": current, "CASEBOOK_NEW_PASSPHRASE": next])
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32(round * 4_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let old = try ana.run(["status"], environment: ["CASEBOOK_PASSPHRASE": current]).code == 0
            let new = try ana.run(["status"], environment: ["CASEBOOK_PASSPHRASE": next]).code == 0
            #expect(old != new, "round \(round): old works \(old), new works \(new)")
            if new { current = next }
        }
    }

    /// `wipe` removes the folder whole, so `init` never makes a replica in a folder holding anything else
    /// (`init --home ~/Documents` followed by `wipe --yes` would otherwise take the documents with it).
    @Test func initRefusesAFolderThatHoldsOtherFiles() throws {
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher")])
        try server.start()
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        let letter = try ana.file("letter.txt", "not Casebook's")
        let refused = try ana.run(["init", "--server", server.url, "--project", "kz", "--token", tokens["ana"] ?? ""])
        #expect(refused.code == 1 && refused.stderr.contains("is not empty"), "\(refused.stderr)")
        #expect(!ana.holdsReplica && FileManager.default.contents(atPath: letter) == Data("not Casebook's".utf8))
    }

    @Test func wipeDestroysTheReplicaAndAsksFirstWithoutYes() throws {
        let team = try Team.start([("ana", "researcher")])
        defer { team.cleanUp() }
        let ana = team["ana"]
        _ = try ana.add("incidents", ["title=to be wiped"])
        #expect(try ana.run(["unlock"]).code == 0)
        let unconfirmed = try ana.run(["wipe"])
        #expect(unconfirmed.code == 64 && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")
        #expect(FileManager.default.fileExists(atPath: ana.home.path))
        let wiped = try ana.run(["wipe", "--yes"], environment: ["CASEBOOK_PASSPHRASE": ""])
        #expect(wiped.code == 0, "\(wiped.stderr)")
        #expect(!FileManager.default.fileExists(atPath: ana.home.path))
        let after = try ana.run(["status"])
        #expect(after.code == 1 && after.stderr.contains("there is no replica"), "\(after.stderr)")
    }

    /// A replica made without a passphrase (as older versions made every replica) is encrypted in place,
    /// its pending edits and synced records kept, its plaintext files gone.
    @Test func encryptTurnsAPlaintextReplicaIntoAnEncryptedOne() throws {
        let seized = try Seized.make(initArguments: ["--no-passphrase"])
        defer { seized.cleanUp() }
        let zhanar = seized.zhanar
        let pending = try zhanar.add("incidents", ["title=Pending at Kalkaman when encrypted"])
        let before = try zhanar.export("incidents")
        let encrypted = try zhanar.run(["encrypt"], environment: ["CASEBOOK_NEW_PASSPHRASE": "zhanar's new long passphrase"])
        #expect(encrypted.code == 0, "\(encrypted.stderr)")
        let withIt = ["CASEBOOK_PASSPHRASE": "zhanar's new long passphrase"]
        #expect(try zhanar.run(["export", "incidents", "--format", "json"], environment: withIt).stdout == before)
        #expect(try zhanar.run(["status"], environment: ["CASEBOOK_PASSPHRASE": ""]).code == 4)
        let hits = Self.plaintext(seized.needles + ["Pending at Kalkaman"], under: [zhanar.home])
        #expect(hits.isEmpty, "\(hits)")
        let synced = try zhanar.run(["sync", "--json"], environment: withIt)
        #expect(synced.code == 0, "\(synced.stderr)")
        try seized.timur.ok("sync")
        #expect(try seized.timur.ok("show", pending).stdout.contains("Pending at Kalkaman"))
    }
}

extension Researcher {
    /// Runs a command with extra environment (a value of "" removes the variable).
    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Programs.Result {
        try Programs.run("casebook", arguments + ["--home", home.path], environment: environment)
    }

    /// Runs a command that must succeed.
    @discardableResult
    func ok(_ arguments: [String]) throws -> Programs.Result {
        let result = try run(arguments)
        #expect(result.code == 0, "casebook \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        return result
    }
}
