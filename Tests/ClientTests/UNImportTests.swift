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

        // `--where` takes any alias, ignoring case and diacritics.
        func count(_ filter: String) async throws -> Int {
            try await local.replica.records(in: "recommendations", where: [filter], schema: local.settings.schema).count
        }
        for filter in ["recommending_state=türkiye", "recommending_state=Turkey", "recommending_state=TURKIYE"] {
            #expect(try await count(filter) == 1, "\(filter)")
        }
        #expect(try await count("recommending_state=Islamic Republic of Iran") == 1)
        #expect(try await count("response=Rejected") == (try await count("response=noted")))
        #expect(try await count("response=Rejected") >= 2)
        #expect(try await count("themes=Ratification of & accession to international instruments") == (try await count("themes=international_instruments")))

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

    /// A CSV as the Slovenia UPR 48 list words it (two rows, one with a Türkiye and a curly apostrophe).
    static let csv = "Recommendation,Recommending State,Response,Themes\n"
        + "\"140.48 Lift restrictions on dual nationality for naturalized Slovene citizens\",Türkiye,Noted,Equality & non-discrimination\n"
        + "\"140.28 Enhance Slovenia’s hate speech prevention strategy\",Malaysia,Supported,\"Economic, social & cultural rights - general measures of implementation\"\n"

    /// `csv` with its cells separated by semicolons (the cells with commas stay quoted).
    static func semicolons(_ text: String) -> String {
        text.replacingOccurrences(of: "Recommendation,Recommending State,Response,Themes", with: "Recommendation;Recommending State;Response;Themes")
            .replacingOccurrences(of: "\",Türkiye,Noted,", with: "\";Türkiye;Noted;")
            .replacingOccurrences(of: "\",Malaysia,Supported,\"", with: "\";Malaysia;Supported;\"")
    }

    @Test func everyEncodingAndLineEndASpreadsheetSavesReadsTheSame() async throws {
        let lineEnds = ["\n", "\r\n", "\r"]
        let encodings: [(String, Data, String?)] = lineEnds.flatMap { end -> [(String, Data, String?)] in
            let text = Self.csv.replacingOccurrences(of: "\n", with: end)
            return [
                ("UTF-8", Data(text.utf8), nil),
                ("UTF-8 with BOM", Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8), nil),
                ("UTF-16LE", Data([0xFF, 0xFE]) + text.data(using: .utf16LittleEndian)!, "UTF-16"),
                ("UTF-16BE", Data([0xFE, 0xFF]) + text.data(using: .utf16BigEndian)!, "UTF-16"),
                ("Windows-1252", text.data(using: .windowsCP1252)!, "Windows-1252"),
                ("Mac Roman", text.data(using: .macOSRoman)!, "Mac Roman"),
                // Excel where the comma is the decimal mark saves `;`; its "Unicode text" is UTF-16 with tabs.
                ("semicolons", Data(Self.semicolons(text).utf8), nil),
                ("UTF-16 with tabs", Data([0xFF, 0xFE]) + Self.semicolons(text).replacingOccurrences(of: ";", with: "\t").data(using: .utf16LittleEndian)!, "UTF-16"),
            ]
        }
        for (name, data, notice) in encodings {
            let local = try TemporaryReplica()
            defer { local.cleanUp() }
            let result = try await run(local, try write(data, in: local))
            #expect(result.imported == 2 && result.dropped.isEmpty, "\(name)")
            if let notice { #expect(result.notices.first?.contains(notice) == true, "\(name): \(result.notices)") } else { #expect(result.notices.isEmpty) }
            let records = try await byParagraph(local)
            #expect(records["140.48"]?["recommending_state"] == .list(["Türkiye"]), "\(name)")
            #expect(records["140.28"]?["text"] == .text("Enhance Slovenia’s hate speech prevention strategy"), "\(name)")
            #expect(records["140.28"]?["un_themes"] == .list(["Economic, social & cultural rights - general measures of implementation"]), "\(name)")
        }
        // A named encoding wins over detection.
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let roman = try write(Self.csv.data(using: .macOSRoman)!, in: local)
        _ = try await run(local, roman, encoding: .macRoman)
        #expect(try await byParagraph(local)["140.48"]?["recommending_state"] == .list(["Türkiye"]))
    }

    @Test func rowsRepeatedOncePerStateMergeAndReimportsUpdateInPlace() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let review = try local.write { editor, _ in try editor.add(collection: "reviews", values: ["state": .text("Slovenia"), "cycle": .integer(4)]) }
        let dyadic = "Paragraph,Recommendation,Recommending State,Response\n"
            + "140.7,Ratify the Optional Protocol,Maldives,Supported\n"
            + "140.7,Ratify the Optional Protocol,Portugal,Supported\n"
            + "140.9,Consider acceding to the Optional Protocol,Rwanda,consider\n"
        let path = try write(Data(dyadic.utf8), in: local)
        let first = try await run(local, path, review: review, maps: ["response": [Schema.foldedKey("consider"): "pending"]])
        #expect(first.imported == 2 && first.updated == 0)
        var records = try await byParagraph(local)
        #expect(records["140.7"]?["recommending_state"] == .list(["Maldives", "Portugal"]))
        #expect(records["140.7"]?["review"] == .reference(review))
        #expect(records["140.9"]?["response"] == .text("pending"))

        let changed = dyadic.replacingOccurrences(of: "consider", with: "Accepted")
        let second = try await run(local, try write(Data(changed.utf8), in: local), review: review)
        #expect(second.imported == 0 && second.updated == 1 && second.unchanged == 1)
        records = try await byParagraph(local)
        #expect(records.count == 2)
        #expect(records["140.9"]?["response"] == .text("supported"))

        // The same paragraph number in another review is another recommendation.
        let other = try local.write { editor, _ in try editor.add(collection: "reviews", values: ["state": .text("Slovenia"), "cycle": .integer(3)]) }
        #expect(try await run(local, path, review: other, maps: ["response": ["consider": "pending"]]).imported == 2)
    }

    @Test func unknownValuesAreCountedOnceEachForOneMapping() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let csv = "text,response\nFirst,consider\nSecond,Consider\nThird,maybe\n"
        let result = try await run(local, try write(Data(csv.utf8), in: local), skipInvalid: true)
        #expect(result.imported == 3)
        #expect(result.unknown == ["response": ["consider": 1, "Consider": 1, "maybe": 1]])
        #expect(result.dropped.map(\.line) == [2, 3, 4])
    }

    @Test func archivesThatAreNotOfficeFilesAreRefusedWithOneLine() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        for (name, message) in [("not-office.zip", "neither an XLSX workbook nor a DOCX document"), ("broken-document.docx", "not well-formed XML")] {
            let error = await #expect(throws: ClientError.self) { _ = try await run(local, fixture(name)) }
            #expect(error?.message.contains(message) == true, "\(name): \(error?.message ?? "")")
        }
        #expect(try local.outbox().isEmpty)
    }
}
