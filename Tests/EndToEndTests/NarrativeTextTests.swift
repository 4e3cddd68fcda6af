import Foundation
import TestSupport
import Testing

/// Narrative text with the real programs: concurrent edits of different paragraphs merge on every
/// replica alike, overlapping ones are a conflict settled in `$EDITOR`, and a group of fields edited
/// concurrently is one conflict.
@Suite(.serialized) struct NarrativeTextTests {
    static let description = """
        On 12 March 2024 police detained Zhanar Abdi\u{0301}rova outside the district court in Almaty.

        She was held for six hours. Her lawyer was not allowed to attend the interrogation.

        Свидетели сообщили, что около 40 человек собрались у здания суда.
        """

    func description(_ person: Researcher, _ id: String) throws -> String? {
        (try person.ok("show", id, "--json").object()["fields"] as? [String: Any])?["description"] as? String
    }

    /// Ana records an incident with its description; everyone syncs it.
    func recorded(_ team: Team) throws -> String {
        let id = try team["ana"].add("incidents", ["title=Arrest outside the court", "description=\(Self.description)"])
        for person in team.people { _ = try person.syncJSON() }
        return id
    }

    @Test(arguments: StoreKind.allCases) func editsOfDifferentParagraphsMergeOnEveryReplicaWithoutAConflict(store: StoreKind) throws {
        let team = try Team.start([("ana", "researcher"), ("bek", "researcher"), ("cem", "researcher")], store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"], cem = team["cem"]
        let id = try team["ana"].add("incidents", ["title=Arrest outside the court", "description=\(Self.description)"])
        _ = try ana.syncJSON()
        _ = try bek.syncJSON()
        // Offline, Ana corrects the date in the first paragraph; Bek adds the witness's account to the last.
        let anaText = Self.description.replacingOccurrences(of: "12 March", with: "13 March")
        let bekText = Self.description + " Один из свидетелей видел, как её увели."
        try ana.ok("edit", id, "--set", "description=\(anaText)")
        try bek.ok("edit", id, "--set", "description=\(bekText)")
        let merged = anaText + " Один из свидетелей видел, как её увели."
        #expect(try ana.syncJSON()["conflicts"] as? Int == 0)
        #expect(try bek.syncJSON()["conflicts"] as? Int == 0)
        #expect(try ana.syncJSON()["conflicts"] as? Int == 0)
        #expect(try description(ana, id) == merged)
        #expect(try description(bek, id) == merged)
        #expect(try ana.conflicts().isEmpty && bek.conflicts().isEmpty)
        // A third replica that syncs later starts from the snapshot (the heads only) and fetches what the merge reads.
        _ = try cem.syncJSON()
        #expect(try description(cem, id) == merged)
        #expect(try cem.conflicts().isEmpty)
        #expect(try ana.export("incidents") == cem.export("incidents"))
        #expect(try bek.export("incidents") == cem.export("incidents"))
        // An edit of the merged text builds on both versions: still no conflict anywhere.
        try cem.ok("edit", id, "--set", "description=\(merged)\n\nAppeal filed on 20 March.")
        _ = try cem.syncJSON()
        #expect(try ana.syncJSON()["conflicts"] as? Int == 0)
        #expect(try description(ana, id)?.hasSuffix("Appeal filed on 20 March.") == true)
        // diff shows what each version changed, word by word.
        _ = try bek.syncJSON()
        let diff = try bek.ok("diff", id, "description").stdout
        #expect(diff.contains("[-12-]{+13+}"), "\(diff)")
        #expect(diff.contains("{+ Один из свидетелей видел, как её увели.+}"), "\(diff)")
        let json = try bek.ok("diff", id, "description", "--json").array()
        #expect(json.count == 4)
        #expect(json.allSatisfy { $0["field"] as? String == "description" })
        let unknown = try bek.run("diff", id, "nonsense")
        #expect(unknown.code == 1 && unknown.stderr.hasPrefix("error: "), "\(unknown.stderr)")
    }

    @Test(arguments: StoreKind.allCases) func overlappingEditsAreOneConflictSettledInTheEditor(store: StoreKind) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        let id = try recorded(team)
        try ana.ok("edit", id, "--set", "description=\(Self.description.replacingOccurrences(of: "six hours", with: "seven hours"))")
        try bek.ok("edit", id, "--set", "description=\(Self.description.replacingOccurrences(of: "six hours", with: "eight hours"))")
        _ = try ana.syncJSON()
        #expect(try bek.syncJSON()["conflicts"] as? Int == 1)
        let conflict = try #require(try bek.conflicts().first)
        #expect(conflict["field"] as? String == "description")
        let places = try #require(conflict["differences"] as? [[String: Any]])
        #expect(places.count == 1 && places.first?["line"] as? Int == 3)
        // Shown as where the versions differ, not as two walls of text.
        let listed = try bek.ok("conflicts").stdout
        #expect(listed.contains("[-six-]{+seven+}") && listed.contains("[-six-]{+eight+}"), "\(listed)")
        #expect(!listed.contains("Свидетели"), "\(listed)")
        let conflictID = String((conflict["id"] as? String ?? "").prefix(8))

        // An editor that fails changes nothing; nor does a text that still holds markers.
        let failing = try bek.file("fail.sh", "#!/bin/sh\nexit 3\n")
        let lazy = try bek.file("lazy.sh", "#!/bin/sh\ncp \"$1\" \"$(dirname \"$0\")/seen.txt\"\n")
        for script in [failing, lazy] {
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script)
            let refused = try Programs.run("casebook", ["resolve", conflictID, "--edit", "--home", bek.home.path], environment: ["EDITOR": script, "VISUAL": ""])
            #expect(refused.code == 1 && refused.stderr.hasPrefix("error: "), "\(refused.stderr)")
            #expect(refused.stderr.contains("nothing was"), "\(refused.stderr)")
            #expect(try bek.conflicts().count == 1)
        }
        let seen = try String(contentsOf: bek.home.appendingPathComponent("seen.txt"), encoding: .utf8)
        #expect(seen.contains("<<<<<<< 1: bek (mine)") && seen.contains("||||||| base\nShe was held for six hours.") && seen.contains(">>>>>>> 2: ana"), "\(seen)")

        // A scripted editor keeps both: a sentence of its own in place of the conflict.
        let resolving = try bek.file("resolve.sh", """
            #!/bin/sh
            awk '/^<<<<<<< /{print "She was held for seven or eight hours. Her lawyer was not allowed to attend the interrogation."; skip=1; next}
                 /^>>>>>>> /{skip=0; next} !skip' "$1" > "$1.new" && mv "$1.new" "$1"
            """)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: resolving)
        let resolved = try Programs.run("casebook", ["resolve", conflictID, "--edit", "--home", bek.home.path], environment: ["EDITOR": resolving])
        #expect(resolved.code == 0, "\(resolved.stderr)")
        let expected = Self.description.replacingOccurrences(of: "six hours", with: "seven or eight hours")
        #expect(try description(bek, id) == expected)
        #expect(try bek.conflicts().isEmpty)
        _ = try bek.syncJSON()
        #expect(try ana.syncJSON()["conflicts"] as? Int == 0)
        #expect(try description(ana, id) == expected)
    }

    @Test(arguments: StoreKind.allCases) func aGroupEditedConcurrentlyIsOneConflictOfTheGroup(store: StoreKind) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        let id = try ana.add("incidents", ["title=Arrest", "date=2024-03-12", "date_precision=day"])
        _ = try ana.syncJSON()
        _ = try bek.syncJSON()
        // Ana corrects the date; Bek says only the month is sure.
        try ana.ok("edit", id, "--set", "date=2024-03-13")
        try bek.ok("edit", id, "--set", "date_precision=month")
        _ = try ana.syncJSON()
        #expect(try bek.syncJSON()["conflicts"] as? Int == 1)
        #expect(try ana.syncJSON()["conflicts"] as? Int == 1)
        let conflict = try #require(try ana.conflicts().first)
        #expect(conflict["field"] as? String == "when")
        #expect(conflict["group"] as? [String] == ["date", "date_precision"])
        let values = try #require(conflict["values"] as? [[String: Any]])
        let tuples = values.compactMap { $0["fields"] as? [String: String] }
        #expect(Set(tuples) == [["date": "2024-03-13", "date_precision": "day"], ["date": "2024-03-12", "date_precision": "month"]])
        // Resolved as one: both members from the version picked.
        let pick = try #require(tuples.firstIndex(of: ["date": "2024-03-13", "date_precision": "day"])) + 1
        try ana.ok("resolve", String((conflict["id"] as? String ?? "").prefix(8)), "--pick", String(pick))
        _ = try ana.syncJSON()
        #expect(try bek.syncJSON()["conflicts"] as? Int == 0)
        for person in [ana, bek] {
            let fields = try #require(try person.ok("show", id, "--json").object()["fields"] as? [String: Any])
            #expect(fields["date"] as? String == "2024-03-13" && fields["date_precision"] as? String == "day")
        }
    }
}
