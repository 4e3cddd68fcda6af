import Foundation
import TestSupport
import Testing

/// The real programs on a free port, driven through the command-line contract.
@Suite(.serialized) struct ResearcherDayTests {
    @Test(arguments: StoreKind.allCases) func twoResearchersEditOfflineConflictResolveAndConverge(store: StoreKind) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]

        // Ana documents an incident offline, then syncs; Bek receives it.
        let id = try ana.add("incidents", ["title=Journalist detained on extremism charges", "date=2025-01-20",
                                           "themes=freedom_of_expression_and_media,counter_extremism_and_terrorism", "location=Алматы"])
        #expect(try ana.ok("status", "--json").object()["pending"] as? Int == 4)
        #expect(try ana.syncJSON()["pushed"] as? Int == 4)
        #expect(try bek.syncJSON()["pulled"] as? Int == 4)
        let shown = try bek.ok("show", String(id.prefix(8)), "--json").object()
        #expect((shown["fields"] as? [String: Any])?["location"] as? String == "Алматы")
        #expect(shown["pending"] as? Bool == false)

        // Both edit the same field offline (and different fields too).
        try ana.ok("edit", String(id.prefix(6)), "--set", "title=Satirical news site founder detained", "--set", "date=2025-01-19")
        try bek.ok("edit", String(id.prefix(6)), "--set", "title=Journalist detained in Almaty", "--unset", "location")
        #expect(try ana.ok("show", id, "--json").object()["pending"] as? Bool == true)
        _ = try ana.syncJSON()
        let bekSync = try bek.syncJSON()
        #expect(bekSync["conflicts"] as? Int == 1)
        #expect(try ana.syncJSON()["conflicts"] as? Int == 1)

        let bekConflicts = try bek.conflicts()
        let anaConflicts = try ana.conflicts()
        #expect(bekConflicts.count == 1)
        #expect(bekConflicts.first?["id"] as? String == anaConflicts.first?["id"] as? String)
        let conflict = try #require(bekConflicts.first)
        #expect(conflict["field"] as? String == "title")
        #expect(conflict["record"] as? String == id)
        let values = try #require(conflict["values"] as? [[String: Any]])
        #expect(Set(values.compactMap { $0["author"] as? String }) == ["ana", "bek"])
        #expect(Set(values.compactMap { $0["value"] as? String }) == ["Satirical news site founder detained", "Journalist detained in Almaty"])
        #expect(values.allSatisfy { ($0["at"] as? String)?.hasPrefix("20") == true })

        // Bek keeps Ana's wording; the resolution travels like any change.
        try bek.ok("resolve", String((conflict["id"] as? String ?? "").prefix(8)), "--theirs")
        #expect(try bek.conflicts().isEmpty)
        #expect(try bek.syncJSON()["conflicts"] as? Int == 0)
        #expect(try ana.syncJSON()["conflicts"] as? Int == 0)
        #expect(try ana.export("incidents") == bek.export("incidents"))
        let fields = try #require(try ana.ok("show", id, "--json").object()["fields"] as? [String: Any])
        #expect(fields["title"] as? String == "Satirical news site founder detained")
        #expect(fields["date"] as? String == "2025-01-19")
        #expect(fields["location"] == nil)

        // The history is there offline, oldest first, with every author.
        let log = try ana.ok("log", String(id.prefix(10)), "--json").array()
        #expect(log.filter { $0["field"] as? String == "title" }.compactMap { $0["author"] as? String } == ["ana", "ana", "bek", "bek"])
        #expect(try ana.ok("status", "--json").object()["lastSync"] as? String != nil)
    }

    @Test(arguments: StoreKind.allCases) func deleteVersusEditIsAConflictAndKeepingTheRecordConverges(store: StoreKind) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        let id = try ana.add("persons", ["code=W-17", "role=witness"])
        _ = try ana.syncJSON()
        _ = try bek.syncJSON()

        try ana.ok("delete", String(id.prefix(8)))
        #expect(try ana.ok("list", "persons", "--json").array().isEmpty)
        try bek.ok("edit", String(id.prefix(8)), "--set", "consent=internal")
        _ = try ana.syncJSON()
        #expect(try bek.syncJSON()["conflicts"] as? Int == 1)
        _ = try ana.syncJSON()
        let conflict = try #require(try ana.conflicts().first)
        #expect(conflict["field"] as? String == "_deleted")
        let values = try #require(conflict["values"] as? [[String: Any]])
        #expect(values.contains { $0["value"] as? String == "deleted" && $0["author"] as? String == "ana" })
        #expect(values.contains { ($0["value"] as? String)?.hasPrefix("kept") == true && $0["author"] as? String == "bek" })
        // Until someone decides, nothing is hidden.
        #expect(try ana.ok("list", "persons", "--json").array().count == 1)

        try ana.ok("resolve", conflict["id"] as? String ?? "", "--value", "keep")
        _ = try ana.syncJSON()
        _ = try bek.syncJSON()
        #expect(try bek.conflicts().isEmpty)
        #expect(try ana.export("persons") == bek.export("persons"))
        let fields = try #require(try bek.ok("show", id, "--json").object()["fields"] as? [String: Any])
        #expect(fields["consent"] as? String == "internal")

        // Deleting it again, having seen everything, is no conflict.
        try bek.ok("delete", id)
        _ = try bek.syncJSON()
        #expect(try ana.syncJSON()["conflicts"] as? Int == 0)
        #expect(try ana.ok("list", "persons", "--json").array().isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func threeWayConflictIsResolvedOnceForEveryone(store: StoreKind) throws {
        let server = try RunningServer(store: store)
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher"), ("bek", "researcher"), ("cem", "researcher")])
        try server.start()
        let people = [Researcher("ana"), Researcher("bek"), Researcher("cem")]
        defer { people.forEach { $0.cleanUp() } }
        for person in people { try person.initialize(server: server, token: tokens[person.name]) }
        let id = try people[0].add("recommendations", ["text=Revise the definition of extremism", "response=pending"])
        for person in people { _ = try person.syncJSON() }
        for (person, response) in zip(people, ["supported", "noted", "supported_in_part"]) {
            try person.ok("edit", id, "--set", "response=\(response)")
        }
        for person in people { _ = try person.syncJSON() }
        for person in people { _ = try person.syncJSON() }
        let conflicts = try people[2].conflicts()
        #expect(conflicts.count == 1)
        let values = try #require(conflicts.first?["values"] as? [[String: Any]])
        #expect(Set(values.compactMap { $0["value"] as? String }) == ["supported", "noted", "supported_in_part"])
        let pick = try #require(values.firstIndex { $0["value"] as? String == "noted" })
        try people[2].ok("resolve", conflicts[0]["id"] as? String ?? "", "--pick", String(pick + 1))
        for person in people.reversed() { _ = try person.syncJSON() }  // Cem publishes first
        for person in people {
            #expect(try person.conflicts().isEmpty)
            #expect(try person.export("recommendations") == people[0].export("recommendations"))
        }
        #expect(try people[0].ok("list", "recommendations", "--where", "response=noted", "--json").array().count == 1)
    }

    @Test(arguments: StoreKind.allCases) func aViewerIsRefusedOnPushButStillPulls(store: StoreKind) throws {
        let server = try RunningServer(store: store)
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher"), ("vera", "viewer")])
        try server.start()
        let ana = Researcher("ana"), vera = Researcher("vera")
        defer { ana.cleanUp(); vera.cleanUp() }
        try ana.initialize(server: server, token: tokens["ana"])
        try vera.initialize(server: server, token: tokens["vera"])
        _ = try ana.add("sources", ["title=HRW press release, January 2025", "kind=ngo_report"])
        _ = try ana.syncJSON()
        _ = try vera.add("sources", ["title=A note of Vera's"])
        let refused = try vera.run("sync")
        #expect(refused.code == 1)
        #expect(refused.stderr.hasPrefix("error: "))
        #expect(refused.stderr.contains("viewers may pull but not push"))
        #expect(refused.stderr.contains("kept"))
        #expect(try vera.ok("status", "--json").object()["pending"] as? Int == 1)
        #expect(try vera.ok("list", "sources", "--json").array().count == 2)  // Ana's arrived
    }

    @Test(arguments: StoreKind.allCases) func anUnreachableServerExitsThreeAndKeepsLocalChanges(store: StoreKind) throws {
        let server = try RunningServer(store: store)
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher")])
        try server.start()
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        try ana.initialize(server: server, token: tokens["ana"])
        _ = try ana.add("incidents", ["title=Internet shut down nationwide"])
        #expect(server.stop() == 0)  // SIGTERM: a graceful stop
        let result = try ana.run("sync")
        #expect(result.code == 3)
        #expect(result.stderr.hasPrefix("error: "))
        #expect(result.stderr.contains("local changes are kept"))
        #expect(try ana.ok("status", "--json").object()["pending"] as? Int == 1)
        let other = Researcher("other")
        let failedInit = try other.run("init", "--server", server.url, "--project", "kz", "--token", "x")
        #expect(failedInit.code == 3)
        #expect(!other.holdsReplica)
    }

    @Test(arguments: StoreKind.allCases) func badInputGetsAClearErrorAndNothingIsStored(store: StoreKind) throws {
        let server = try RunningServer(store: store)
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher")])
        try server.start()
        let ana = Researcher("ana")
        defer { ana.cleanUp() }
        let wrongToken = try ana.run("init", "--server", server.url, "--project", "kz", "--token", "cbk_nope")
        #expect(wrongToken.code == 1)
        #expect(wrongToken.stderr.contains("token"))
        let badProject = try ana.run("init", "--server", server.url, "--project", "kz/../x", "--token", tokens["ana"] ?? "")
        #expect(badProject.code == 64)
        #expect(badProject.stderr.contains("letters, digits"))
        #expect(!ana.holdsReplica)
        try ana.initialize(server: server, token: tokens["ana"])

        let cases: [([String], Int32, String)] = [
            (["add", "incidents", "--set", "title=x", "--set", "date=2025-02-30"], 1, "YYYY-MM-DD"),
            (["add", "recommendations", "--set", "text=x", "--set", "response=accepted"], 1, "supported, supported_in_part, noted"),
            (["add", "incidents", "--set", "location=Astana"], 1, "needs 'title'"),
            (["add", "incidents", "--set", "colour=red", "--set", "title=x"], 1, "unknown field 'colour'"),
            (["add", "cases", "--set", "title=x"], 1, "unknown collection 'cases'"),
            (["add", "incidents", "--set", "title"], 64, "FIELD=VALUE"),
            (["show", "abc"], 1, "at least 6"),
            (["show", "abcdef"], 1, "no record"),
            (["resolve", "abcdef12", "--mine", "--theirs"], 64, "choose one"),
            (["frobnicate"], 64, "Usage"),
        ]
        for (arguments, code, message) in cases {
            let result = try Programs.run("casebook", arguments + ["--home", ana.home.path])
            #expect(result.code == code, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            if code == 1 { #expect(result.stderr.hasPrefix("error: "), "\(arguments): \(result.stderr)") }
            #expect(!result.stderr.contains("Fatal error"))
        }
        #expect(try ana.ok("status", "--json").object()["pending"] as? Int == 0)
        let noReplica = try Programs.run("casebook", ["status", "--home", "/tmp/casebook-nothing-\(UUID().uuidString)"])
        #expect(noReplica.code == 1)
        #expect(noReplica.stderr.contains("casebook init"))
    }

    @Test(arguments: StoreKind.allCases) func adminCommandsWorkWhileTheServerRuns(store: StoreKind) throws {
        let server = try RunningServer(store: store)
        defer { server.cleanUp() }
        _ = try server.setUp(users: [])
        try server.start()
        let added = try server.admin(["user", "add", "dana", "--project", "kz"])
        #expect(added.code == 0)
        let token = try #require(added.stdout.split(separator: "\n").last.map(String.init))
        let dana = Researcher("dana")
        defer { dana.cleanUp() }
        try dana.initialize(server: server, token: token)
        #expect(try server.admin(["user", "revoke", "dana"]).code == 0)
        let refused = try dana.run("sync")
        #expect(refused.code == 1)
        #expect(refused.stderr.contains("revoked"))
        #expect(!server.logText.contains(token))
    }

    @Test func anOnlineBackupTakenWhileServingRestoresEverything() throws {
        let team = try Team.start()
        defer { team.cleanUp() }
        let ana = team["ana"]
        let id = try ana.add("incidents", ["title=Peaceful protesters fined", "date=2025-02-03"])
        _ = try ana.syncJSON()
        let backup = team.server.data.appendingPathComponent("backup.sqlite")
        let taken = try team.server.admin(["backup", backup.path])
        #expect(taken.code == 0, "\(taken.stderr)")
        #expect(taken.stdout.contains("1 project(s) and 2 changes"))
        // Never overwrites, and points PostgreSQL users to pg_dump.
        let again = try team.server.admin(["backup", backup.path])
        #expect(again.code == 1)
        #expect(again.stderr.contains("already exists"))
        let postgres = try Programs.run("casebook-server", ["backup", "x.sqlite", "--database-url", "postgres://u@localhost/db"])
        #expect(postgres.stderr.contains("pg_dump"))

        // Restored into a new data folder, it serves the same project, users and records.
        let restoredData = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-restored-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: restoredData, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: backup, to: restoredData.appendingPathComponent("casebook.sqlite"))
        let restored = try RunningServer(data: restoredData)
        defer { restored.cleanUp() }
        try restored.start()
        let dana = Researcher("dana")
        defer { dana.cleanUp() }
        try dana.initialize(server: restored, token: team.tokens["bek"])
        _ = try dana.syncJSON()
        let shown = try dana.ok("show", String(id.prefix(8)), "--json").object()
        #expect((shown["fields"] as? [String: Any])?["title"] as? String == "Peaceful protesters fined")
    }
}
