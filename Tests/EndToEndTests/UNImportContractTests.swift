import Foundation
import Testing

/// The contract's "Importing real UN data", driven through the built `casebook` as a user runs it, on an extract of
/// OHCHR's thematic list of recommendations for Slovenia's 2025 review (Tests/Fixtures/README.md).
@Suite struct UNImportContractTests {
    static let list = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/ohchr-thematic-list-slovenia-upr48-extract.docx").standardized.path

    @Test func anOHCHRListImportsInOneCommandAndAgainWithoutDuplicates() throws {
        let team = try Team.start([("ana", "researcher")])
        defer { team.cleanUp() }
        let ana = team["ana"]
        let review = try ana.add("reviews", ["state=Slovenia", "cycle=4", "session=48"])
        let first = try ana.ok("import", "recommendations", Self.list, "--review", String(review.prefix(8)), "--json").object()
        let imported = try #require(first["imported"] as? Int)
        #expect(imported > 10)
        #expect(first["updated"] as? Int == 0 && first["unchanged"] as? Int == 0 && first["skipped"] as? Int == 0)

        let again = try ana.ok("import", "recommendations", Self.list, "--review", String(review.prefix(8)), "--json").object()
        #expect(again["imported"] as? Int == 0 && again["updated"] as? Int == 0 && again["unchanged"] as? Int == imported)

        let found = try ana.ok("list", "recommendations", "--where", "recommending_state=turkiye", "--json").array()
        #expect(found.count == 1)
        let report = try ana.ok("report", "--json").object()
        #expect(report["recommendations"] as? Int == imported)
        #expect((report["recommendingStates"] as? Int ?? 0) > 10)
        let page = try ana.ok("report", "--format", "html").stdout
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("<svg"))
        #expect(try ana.ok("report", "--cycles").stdout.contains("Recurring recommendations: 0"))

        let wrong = try ana.run("import", "recommendations", Self.list, "--encoding", "ebcdic")
        #expect(wrong.code != 0 && wrong.stderr.contains("unknown encoding 'ebcdic'"))
    }

    /// Four cycles of Slovenia's reviews from real files, each imported in one command that creates its review:
    /// `report --cycles` then shows the recommendations made again, cycle by cycle.
    @Test func fourCyclesImportedWithTheirReviewsShowRealRecurringChains() throws {
        let team = try Team.start([("ana", "researcher")])
        defer { team.cleanUp() }
        let ana = team["ana"]
        let fixtures = URL(fileURLWithPath: Self.list).deletingLastPathComponent()
        for name in ["ohchr-thematic-list-slovenia-upr48-extract.docx", "ohchr-thematic-list-slovenia-upr34-extract.docx",
                     "ohchr-thematic-list-slovenia-upr20-extract.docx", "upr-info-export-sessions-6-9-slovenia-extract.csv"] {
            let imported = try ana.ok("import", "recommendations", fixtures.appendingPathComponent(name).path, "--create-review")
            #expect(imported.stderr.contains("created review "), "\(name): \(imported.stderr)")
        }
        let reviews = try ana.ok("list", "reviews", "--json").array()
        #expect(Set(reviews.compactMap { ($0["fields"] as? [String: Any])?["cycle"] as? Int }) == [1, 2, 3, 4])
        let cycles = try ana.ok("report", "--cycles").stdout
        let count = cycles.firstMatch(of: /Recurring recommendations: (\d+)/).flatMap { Int($0.1) } ?? 0
        #expect(count >= 4, "\(cycles)")
        // The convention on enforced disappearance, asked for by Argentina in the first cycle, by Argentina, France
        // and others in the second, and by France and Lithuania in the third.
        #expect(cycles.contains(/cycle 1  -  supported[^\n]*\n    cycle 2  115.16  supported[^\n]*\n    cycle 3  121.1  supported/), "\(cycles)")
        #expect(cycles.contains(/cycle 3  122.77  noted[^\n]*\n    cycle 4  140.70  noted/))

        let again = try ana.run("import", "recommendations", fixtures.appendingPathComponent("upr-info-export-sessions-6-9-slovenia-extract.csv").path,
                                "--create-review", "--json")
        #expect(try again.object()["unchanged"] as? Int == 30 && again.stderr.contains("linked 30 rows to review "))
        let refused = try ana.run("import", "recommendations", fixtures.appendingPathComponent("upr-info-style-export.xlsx").path, "--create-review")
        #expect(refused.code == 1 && refused.stderr.hasPrefix("error: ") && refused.stderr.contains("pass --review ID"), "\(refused.stderr)")
    }

    /// A file whose responses are not the UN's words: refused as a whole, imported with `--skip-invalid` (each row
    /// kept, only its response left out), the unknown values listed once each, and read as terms with `--map`.
    @Test func unknownResponsesAreListedOnceThenMappedOnTheNextImport() throws {
        let team = try Team.start([("ana", "researcher")])
        defer { team.cleanUp() }
        let ana = team["ana"]
        let csv = try ana.file("responses.csv", "Paragraph,Recommendation,Recommending State,Response\n"
            + "1.1,Abolish the death penalty,Turkey,consider\n1.2,Ratify the Optional Protocol,Vietnam,Consider\n"
            + "1.3,Protect journalists,Maldives,maybe\n1.4,Adopt a law on domestic violence,Portugal,Accepted\n")
        let refused = try ana.run("import", "recommendations", csv)
        #expect(refused.code == 1 && refused.stderr.hasPrefix("error: ") && refused.stderr.contains("line 2"), "\(refused.stderr)")

        // Each left-out cell is named by its line and by its column as the file heads it.
        let skipped = try ana.ok("import", "recommendations", csv, "--skip-invalid", "--json")
        #expect(try skipped.object()["imported"] as? Int == 4)
        #expect(skipped.stderr.contains("left out line 2, column 'Response'") && skipped.stderr.contains("left out line 4, column 'Response'"),
                "\(skipped.stderr)")
        #expect(skipped.stderr.contains("unknown values of response: 'Consider' (1), 'consider' (1), 'maybe' (1); map each once with --map response:VALUE=TERM"),
                "\(skipped.stderr)")

        // One mapping per value, whatever its case; a term by its label works as well as by its id.
        let mapped = try ana.ok("import", "recommendations", csv, "--map", "response:consider=pending", "--map", "response:maybe=Partially supported", "--json")
        #expect(try mapped.object()["imported"] as? Int == 0 && (try mapped.object()["updated"] as? Int) == 3, "\(mapped.stdout)")
        #expect(!mapped.stderr.contains("unknown values"), "\(mapped.stderr)")
        #expect(try ana.ok("list", "recommendations", "--where", "response=pending", "--json").array().count == 2)
        #expect(try ana.ok("list", "recommendations", "--where", "response=supported_in_part", "--json").array().count == 1)
        #expect(try ana.ok("list", "recommendations", "--where", "recommending_state=Türkiye", "--json").array().count == 1)

        let wrong = try ana.run("import", "recommendations", csv, "--map", "response=pending")
        #expect(wrong.code == 64 && wrong.stderr.contains("write FIELD:VALUE=TERM"), "\(wrong.stderr)")
    }
}
