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
}
