import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// Importing real UN data without hand-editing: OHCHR's thematic lists (DOCX, three cycles' layouts), an XLSX
/// export, and CSV in every encoding a spreadsheet saves. The fixtures and their sources are described in
/// Tests/Fixtures/README.md (OHCHR's thematic lists of recommendations for Slovenia, UPR sessions 20, 34 and 48).
@Suite struct UNImportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures").standardized

    func fixture(_ name: String) -> String { Self.fixtures.appendingPathComponent(name).path }

    func run(_ local: TemporaryReplica, _ path: String, skipInvalid: Bool = false, review: String? = nil,
             encoding: TextEncoding? = nil, maps: [String: [String: String]] = [:]) async throws -> CSVImporter.Result {
        var importer = CSVImporter(settings: local.settings, collection: "recommendations", path: path, skipInvalid: skipInvalid,
                                   progress: ProgressLine(enabled: false))
        importer.review = review
        importer.encoding = encoding
        importer.maps = maps
        return try await importer.run(local.replica)
    }

    func byParagraph(_ local: TemporaryReplica) async throws -> [String: [String: FieldValue]] {
        let views = try await local.replica.read { db in try ReplicaQuery.list(collection: "recommendations", filters: [], db) }
        return Dictionary(views.map { ($0.fields["paragraph"]?.displayText ?? "", $0.fields) }, uniquingKeysWith: { first, _ in first })
    }

    func write(_ data: Data, in local: TemporaryReplica, _ name: String = "import.csv") throws -> String {
        let url = local.home.appendingPathComponent("\(UUID().uuidString)-\(name)")
        try data.write(to: url)
        return url.path
    }

    @Test func theThematicListOfA2025ReviewImportsWithoutHandEditing() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let result = try await run(local, fixture("ohchr-thematic-list-slovenia-upr48-extract.docx"))
        #expect(result.skipped.isEmpty && result.dropped.isEmpty, "\(result.skipped) \(result.dropped)")
        let records = try await byParagraph(local)
        #expect(result.imported == records.count && records.count >= 10)
        let joint = try #require(records["140.7"])
        #expect(joint["text"] == .text("Ratify the Optional Protocol to the International Covenant on Economic, Social and Cultural Rights"))
        #expect(joint["recommending_state"] == .list(["Maldives", "Portugal"]))
        #expect(joint["response"] == .text("supported"))
        #expect(joint["source_of_position"] == .text("A/HRC/59/15/Add.1 - Para.3"))
        #expect(joint["themes"] == .list(["international_instruments"]))
        // A theme with a comma stays one item.
        #expect(joint["un_themes"] == .list(["Ratification of & accession to international instruments",
                                              "Economic, social & cultural rights - general measures of implementation"]))
        #expect(joint["groups_of_persons"] == .list(["Public officials"]))
        #expect(joint["sdgs"].map { if case .list(let items) = $0 { items.count } else { 0 } } == 8)
        #expect(records["140.1"]?["recommending_state"] == .list(["Algeria", "Cabo Verde", "Paraguay", "South Sudan", "Sri Lanka", "Togo",
                                                                  "Uruguay", "Venezuela (Bolivarian Republic of)"]))
        #expect(records["140.79"]?["response"] == .text("noted"))
        #expect(records["140.48"]?["recommending_state"] == .list(["Türkiye"]))
        #expect(records["140.94"]?["recommending_state"] == .list(["Iran (Islamic Republic of)"]))
        #expect(records["140.177"]?["recommending_state"] == .list(["Viet Nam"]))

        // The same file again changes nothing and stages nothing.
        let outbox = try local.outbox().count
        let again = try await run(local, fixture("ohchr-thematic-list-slovenia-upr48-extract.docx"))
        #expect(again.imported == 0 && again.updated == 0 && again.unchanged == result.imported)
        #expect(try local.outbox().count == outbox)
    }

    @Test func theThirdAndSecondCyclesListsWithTheirOwnHeaders() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let third = try await run(local, fixture("ohchr-thematic-list-slovenia-upr34-extract.docx"))
        #expect(third.skipped.isEmpty && third.dropped.isEmpty)
        var records = try await byParagraph(local)
        #expect(records["121.2"]?["recommending_state"] == .list(["Ukraine", "Slovakia"]))
        #expect(records["121.1"]?["groups_of_persons"] == .list(["Disappeared persons"]))
        #expect(records["121.1"]?["sdgs"] == .list(["16 - PEACE, JUSTICE AND STRONG INSTITUTIONS"]))
        #expect(records["122.7"]?["recommending_state"] == .list(["Slovakia", "Spain", "North Macedonia"]))
        #expect(records["122.7"]?["response"] == .text("noted"))
        #expect(records["122.64"]?["recommending_state"] == .list(["Türkiye"]))

        let second = try await run(local, fixture("ohchr-thematic-list-slovenia-upr20-extract.docx"))
        #expect(second.skipped.isEmpty && second.dropped.isEmpty)
        records = try await byParagraph(local)
        #expect(records["115.3"]?["recommending_state"] == .list(["Portugal", "Slovakia"]))
        #expect(records["115.8"]?["recommending_state"] == .list(["Senegal", "Sierra Leone", "Venezuela (Bolivarian Republic of)", "Peru", "Uruguay"]))
        #expect(records["115.103"]?["recommending_state"] == .list(["Iran (Islamic Republic of)"]))
        // The second cycle's theme codes (`A12 `) are not part of the theme.
        #expect(records["115.1"]?["un_themes"] == .list(["Acceptance of international norms"]))
        #expect(records["115.1"]?["themes"] == .list(["international_instruments"]))
    }

    @Test func anXLSXExportReadsItsFirstSheet() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let result = try await run(local, fixture("upr-info-style-export.xlsx"))
        #expect(result.imported == 3 && result.skipped.isEmpty && result.dropped.isEmpty, "\(result)")
        let views = try await local.replica.read { db in try ReplicaQuery.list(collection: "recommendations", filters: [], db) }
        let states = Set(views.compactMap { $0.fields["recommending_state"] })
        #expect(states == [.list(["Maldives"]), .list(["Türkiye"]), .list(["Viet Nam"])])
        #expect(Set(views.compactMap { $0.fields["response"] }) == [.text("supported"), .text("noted")])
        #expect(views.contains { $0.fields["themes"] == .list(["gender_based_violence"]) })
    }
}
