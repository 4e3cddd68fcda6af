import Foundation
import Testing

/// The ways `resolve`, `edit` and `delete` refuse, each with a message that says what to do.
@Suite(.serialized) struct ResolveErrorTests {
    @Test func resolveAndEditRefuseWhatCannotBeDone() throws {
        let team = try Team.start([("ana", "researcher"), ("bek", "researcher"), ("cem", "researcher")])
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"], cem = team["cem"]
        let id = try ana.add("recommendations", ["text=Abolish the Financing Terrorism List entries for nonviolent offences"])
        for person in [ana, bek, cem] { _ = try person.syncJSON() }
        try bek.ok("edit", id, "--set", "response=noted")
        try cem.ok("edit", id, "--set", "response=supported")
        _ = try bek.syncJSON()
        _ = try cem.syncJSON()
        _ = try ana.syncJSON()
        let conflict = try #require(try ana.conflicts().first?["id"] as? String)

        let cases: [([String], String)] = [
            (["resolve", conflict, "--mine"], "no value of this conflict was written on this replica"),
            (["resolve", conflict, "--theirs"], "several other people's values compete"),
            (["resolve", conflict, "--pick", "3"], "has 2 values: pick 1 to 2"),
            (["resolve", conflict, "--value", "maybe"], "supported, supported_in_part, noted"),
            (["resolve", "ffffffff", "--pick", "1"], "no open conflict"),
        ]
        for (arguments, message) in cases {
            let result = try Programs.run("casebook", arguments + ["--home", ana.home.path])
            #expect(result.code == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: "))
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(try ana.ok("status", "--json").object()["pending"] as? Int == 0)

        // A deleted record cannot be edited or deleted again.
        try ana.ok("resolve", conflict, "--pick", "1")
        try ana.ok("delete", id)
        let edit = try ana.run("edit", id, "--set", "response=noted")
        #expect(edit.code == 1)
        #expect(edit.stderr.contains("was deleted"))
        let again = try ana.run("delete", id)
        #expect(again.code == 1)
        #expect(again.stderr.contains("already deleted"))
    }
}
