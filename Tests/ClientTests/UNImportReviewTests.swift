import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// Linking imported recommendations to their review and to the earlier cycle's recommendations they repeat, on
/// real files: OHCHR's thematic lists for Slovenia's 2nd, 3rd and 4th cycles and an extract of UPR Info's database
/// export for the 1st (Tests/Fixtures/README.md).
@Suite struct UNImportReviewTests {
    static let lists = [(2, "20", "ohchr-thematic-list-slovenia-upr20-extract.docx"), (3, "34", "ohchr-thematic-list-slovenia-upr34-extract.docx"),
                        (4, "48", "ohchr-thematic-list-slovenia-upr48-extract.docx")]
    static let uprInfoCSV = "upr-info-export-sessions-6-9-slovenia-extract.csv"
    static let uprInfoXLSX = "upr-info-export-sessions-6-9-slovenia-extract.xlsx"

    func fixture(_ name: String) -> String { UNImportTests.fixtures.appendingPathComponent(name).path }

    func run(_ local: TemporaryReplica, _ name: String, createReview: Bool = false, review: String? = nil) async throws -> CSVImporter.Result {
        var importer = CSVImporter(settings: local.settings, collection: "recommendations", path: fixture(name), skipInvalid: false,
                                   progress: ProgressLine(enabled: false))
        importer.createReview = createReview
        importer.review = review
        return try await importer.run(local.replica)
    }

    func views(_ local: TemporaryReplica, _ collection: String) async throws -> [RecordView] {
        try await local.replica.read { db in try ReplicaQuery.list(collection: collection, filters: [], db) }
    }

    @Test func aListIsLinkedToTheReviewOfTheStateAndCycleItsHeaderNames() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let third = try local.write { editor, _ in try editor.add(collection: "reviews", values: ["state": .text("Slovenia"), "cycle": .integer(3)]) }
        let fourth = try local.write { editor, _ in try editor.add(collection: "reviews", values: ["state": .text("slovenia"), "session": .text("48th")]) }
        let result = try await run(local, "ohchr-thematic-list-slovenia-upr48-extract.docx")
        #expect(result.notices.contains("linked \(result.imported) rows to review \(fourth.prefix(8)) (slovenia, cycle 4, session 48)"), "\(result.notices)")
        let records = try await views(local, "recommendations")
        #expect(records.count == result.imported && records.allSatisfy { $0.fields["review"] == .reference(fourth) })
        #expect(records.allSatisfy { $0.fields["cycle"] == .integer(4) })
        #expect(try await run(local, "ohchr-thematic-list-slovenia-upr34-extract.docx").notices.first?.contains(third.prefix(8)) == true)
    }

    @Test func withoutAMatchingReviewRowsStayUnlinkedUntilCreateReviewMakesItAndAdoptsThem() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let first = try await run(local, "ohchr-thematic-list-slovenia-upr48-extract.docx")
        #expect(first.notices.contains { $0.hasPrefix("no review of Slovenia, cycle 4, session 48 in reviews: \(first.imported) rows are not linked") })
        #expect(try await views(local, "reviews").isEmpty)

        let second = try await run(local, "ohchr-thematic-list-slovenia-upr48-extract.docx", createReview: true)
        let reviews = try await views(local, "reviews")
        let review = try #require(reviews.first)
        #expect(reviews.count == 1)
        #expect(review.fields["state"] == .text("Slovenia") && review.fields["cycle"] == .integer(4) && review.fields["session"] == .text("48"))
        #expect(second.notices.contains("created review \(review.id.prefix(8)) (Slovenia, cycle 4, session 48) and linked \(first.imported) rows to review \(review.id.prefix(8)) (Slovenia, cycle 4, session 48)"),
                "\(second.notices)")
        // The records imported unlinked are the ones now linked: nothing was duplicated.
        #expect(second.imported == 0 && second.updated == first.imported)
        let records = try await views(local, "recommendations")
        #expect(records.count == first.imported && records.allSatisfy { $0.fields["review"] == .reference(review.id) })
        // And again: the review is found, not made twice.
        let third = try await run(local, "ohchr-thematic-list-slovenia-upr48-extract.docx", createReview: true)
        let reviewsAfter = try await views(local, "reviews")
        #expect(third.unchanged == first.imported && reviewsAfter.count == 1)
    }

    @Test func createReviewRefusesAFileThatDoesNotSayWhichReviewItIs() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let path = local.home.appendingPathComponent("plain.csv")
        try Data("text,response\nAbolish the death penalty,noted\n".utf8).write(to: path)
        var importer = CSVImporter(settings: local.settings, collection: "recommendations", path: path.path, skipInvalid: false,
                                   progress: ProgressLine(enabled: false))
        importer.createReview = true
        let error = await #expect(throws: ClientError.self) { _ = try await importer.run(local.replica) }
        #expect(error?.message.contains("does not say which review a row belong") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("pass --review ID") == true && error?.message.contains("nothing was imported") == true)
        #expect(try local.outbox().isEmpty)
        importer.review = "0123456789"
        let both = await #expect(throws: ClientError.self) { _ = try await importer.run(local.replica) }
        #expect(both?.message == "give --review ID or --create-review, not both")
    }

    @Test func aRealUPRInfoExportSavedByExcelForMacImportsAsItIs() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let result = try await run(local, Self.uprInfoCSV, createReview: true)
        // As Excel for Mac saved it: CR line ends only; UPR Info's columns (To, Text, From, Response, Action, Issue, Session).
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture(Self.uprInfoCSV)))
        #expect(bytes.contains(0x0D) && !bytes.contains(0x0A))
        #expect(result.imported == 30 && result.skipped.isEmpty && result.dropped.isEmpty && result.unknown.isEmpty, "\(result)")
        #expect(Set(result.ignoredColumns) == ["To-Rgrp", "To-Org", "From-Rgrp", "From-Org"])
        let review = try #require(try await views(local, "reviews").first)
        #expect(review.fields["state"] == .text("Slovenia") && review.fields["cycle"] == .integer(1) && review.fields["session"] == .text("7"))
        let records = try await views(local, "recommendations")
        let norway = try #require(records.first { ($0.fields["text"]?.displayText ?? "").hasPrefix("Add a provision to the Marriage and Family Relations Act") })
        #expect(norway.fields["recommending_state"] == .list(["Norway"]))
        #expect(norway.fields["response"] == .text("supported"))
        #expect(norway.fields["action_category"] == .text("5"))
        #expect(norway.fields["themes"] == .list(["childrens_rights"]))
        #expect(norway.fields["review"] == .reference(review.id))
        #expect(records.contains { $0.fields["recommending_state"] == .list(["Iran (Islamic Republic of)"]) })
        // UPR Info's "Other" is no theme of either list: kept as written, and said so.
        #expect(result.unlisted["themes"]?["Other"] ?? 0 > 0)
        #expect(records.contains { if case .list(let items)? = $0.fields["un_themes"] { items.contains("Other") } else { false } })
        // Rows without paragraph numbers are keyed by their review and text: importing again changes nothing.
        let again = try await run(local, Self.uprInfoCSV, createReview: true)
        #expect(again.imported == 0 && again.updated == 0 && again.unchanged == 30)
        // The same export as a workbook finds the same records.
        let workbook = try await run(local, Self.uprInfoXLSX, createReview: true)
        #expect(workbook.imported == 0 && workbook.updated == 0 && workbook.unchanged == 30, "\(workbook)")
    }

    @Test func anExcel97WorkbookIsRefusedWithWhatToDo() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let path = local.home.appendingPathComponent("export.xls")
        try Data([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + [UInt8](repeating: 0, count: 504)).write(to: path)
        var importer = CSVImporter(settings: local.settings, collection: "recommendations", path: path.path, skipInvalid: false,
                                   progress: ProgressLine(enabled: false))
        importer.createReview = true
        let error = await #expect(throws: ClientError.self) { _ = try await importer.run(local.replica) }
        #expect(error?.message.contains("Excel 97-2003 workbook (.xls)") == true && error?.message.contains("save it as an Excel workbook (.xlsx) or as CSV") == true)
    }

    @Test func fourCyclesOfRealFilesGiveRealRecurringChains() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        var linked = 0
        for name in Self.lists.map(\.2).reversed() + [Self.uprInfoCSV] {
            let result = try await run(local, name, createReview: true)
            linked += result.notices.compactMap { $0.firstMatch(of: /^linked (\d+) recommendations? to the earlier cycle/).flatMap { Int($0.1) } }.reduce(0, +)
        }
        let records = try await views(local, "recommendations")
        func record(_ paragraph: String) throws -> RecordView { try #require(records.first { $0.fields["paragraph"] == .text(paragraph) }) }
        func repeats(_ view: RecordView) -> [String] { if case .references(let ids)? = view.fields["repeats"] { ids } else { [] } }
        // Imported newest first, so each link is made when its earlier cycle arrives.
        #expect(repeats(try record("140.70")) == [try record("122.77").id])
        #expect(repeats(try record("140.7")) == [try record("115.4").id])
        #expect(repeats(try record("140.8")) == [try record("115.4").id])
        #expect(repeats(try record("121.1")) == [try record("115.16").id])
        let argentina = try #require(records.first { ($0.fields["text"]?.displayText ?? "").hasPrefix("Consider the possibility of ratifying the International Convention for the Protection") })
        #expect(repeats(try record("115.16")) == [argentina.id])
        #expect(linked == records.filter { !repeats($0).isEmpty }.count)

        let chains = try await local.replica.recurrences(roles: Schema.upr.report!)
        let paragraphs = chains.map { $0.appearances.map { $0.paragraph ?? "(cycle \($0.cycle ?? 0))" } }
        #expect(paragraphs.contains(["(cycle 1)", "115.16", "121.1"]), "\(paragraphs)")
        #expect(paragraphs.contains(["122.77", "140.70"]) && paragraphs.contains(["115.4", "140.7"]) && paragraphs.contains(["115.4", "140.8"]))
        #expect(chains.allSatisfy { $0.state == "Slovenia" })
    }
}
