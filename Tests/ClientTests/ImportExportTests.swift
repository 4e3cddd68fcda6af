import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

@Suite struct ImportExportTests {
    static let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../demo").standardized

    /// Writes a CSV file into the replica's folder, so that its clean-up removes it too.
    func write(_ text: String, in local: TemporaryReplica) throws -> String {
        let url = local.home.appendingPathComponent("import-\(UUID().uuidString).csv")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func importCSV(_ local: TemporaryReplica, _ collection: String, _ path: String, skipInvalid: Bool = false,
                   schema: Schema? = nil, encoding: TextEncoding? = nil, chunkSize: Int? = nil) async throws -> CSVImporter.Result {
        var settings = local.settings
        if let schema { settings.schema = schema }
        var importer = CSVImporter(settings: settings, collection: collection, path: path, skipInvalid: skipInvalid,
                                   progress: ProgressLine(enabled: false))
        importer.encoding = encoding
        if let chunkSize { importer.chunkSize = chunkSize }
        return try await importer.run(local.replica)
    }

    /// The schema as a replica made before schemas carried column aliases and report roles stored it.
    func withoutAliasesOrReport(_ schema: Schema) -> Schema {
        var schema = schema
        schema.report = nil
        for c in schema.collections.indices {
            for f in schema.collections[c].fields.indices { schema.collections[c].fields[f].aliases = [] }
        }
        return schema
    }

    func exportCSV(_ local: TemporaryReplica, _ collection: String) async throws -> String {
        let views = try await local.replica.read { db in try ReplicaQuery.list(collection: collection, filters: [], db) }
        var text = ""
        CSVWriter.export(views, schema: try Schema.upr.requireCollection(collection)) { text += $0 }
        return text
    }

    @Test func exportRoundTripsThroughImportWithoutLoss() async throws {
        let first = try TemporaryReplica(), second = try TemporaryReplica()
        defer { first.cleanUp(); second.cleanUp() }
        let csv = """
            Paragraph Number,Recommendation,Recommending State,Response,Themes,Action Category,Cycle,Notes
            157.1,"Revise the definition of ""extremism"", and remove nonviolent people from the list",United Kingdom,Supported,Counter-extremism and counter-terrorism,5,4,ignored
            157.2,"Провести расследование событий января 2022 года.
            Second line: Қазақстан","[""Korea, Republic of"",""Norway""]",noted,"torture_and_ill_treatment, justice_and_impunity",4,4,
            157.3,Guarantee inclusive education,Spain,,disability_rights,,,

            """
        let path = try write(csv, in: first)
        let result = try await importCSV(first, "recommendations", path)
        #expect(result.imported == 3)
        #expect(result.ignoredColumns == ["Notes"])
        let views = try await first.replica.read { db in try ReplicaQuery.list(collection: "recommendations", filters: [], db) }
        let byParagraph = Dictionary(uniqueKeysWithValues: views.map { ($0.fields["paragraph"]?.displayText ?? "", $0) })
        #expect(byParagraph["157.1"]?.fields["response"] == .text("supported"))
        #expect(byParagraph["157.1"]?.fields["themes"] == .list(["counter_extremism_and_terrorism"]))
        #expect(byParagraph["157.1"]?.fields["text"] == .text("Revise the definition of \"extremism\", and remove nonviolent people from the list"))
        // A state is written by its UN short name, whatever spelling the file used.
        #expect(byParagraph["157.2"]?.fields["recommending_state"] == .list(["Republic of Korea", "Norway"]))
        #expect(byParagraph["157.2"]?.fields["text"] == .text("Провести расследование событий января 2022 года.\nSecond line: Қазақстан"))
        #expect(byParagraph["157.2"]?.fields["cycle"] == .integer(4))

        let exported = try await exportCSV(first, "recommendations")
        let again = try await importCSV(second, "recommendations", try write(exported, in: second))
        #expect(again.imported == 3)
        #expect(try await exportCSV(second, "recommendations") == exported)
        // Importing the export again updates the same records instead of duplicating them.
        let edited = exported.replacingOccurrences(of: "Spain", with: "Portugal")
        let reimport = try await importCSV(second, "recommendations", try write(edited, in: second))
        #expect(reimport.imported == 0 && reimport.updated == 1 && reimport.unchanged == 2)
        let count = try await second.replica.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") }
        #expect(count == 3)
        #expect(try await exportCSV(second, "recommendations") == edited)
    }

    @Test func aBadRowRefusesTheWholeImportWithItsLineNumber() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let path = try write("text,response\nFirst,supported\n\"Second\nspans two lines\",noted\nThird,consider\nFourth,noted\n,noted\n", in: local)
        do {
            _ = try await importCSV(local, "recommendations", path)
            Issue.record("the import was accepted")
        } catch let error as ClientError {
            #expect(error.message.contains("line 5"))
            #expect(error.message.contains("'response'"))
            #expect(error.message.contains("nothing was imported"))
        }
        #expect(try local.outbox().isEmpty)
        // With --skip-invalid the row keeps its valid cells: only the bad cell is left out, named by line and
        // column; a row that cannot be a record (no text) is left out whole.
        let skipped = try await importCSV(local, "recommendations", path, skipInvalid: true)
        #expect(skipped.imported == 4)
        #expect(skipped.dropped.map(\.line) == [5])
        #expect(skipped.dropped.map(\.column) == ["response"])
        #expect(skipped.unknown == ["response": ["consider": 1]])
        #expect(skipped.skipped.map(\.line) == [7])
    }

    @Test func aRowRefusedWhileWritingLeavesNothingAndARetryImportsEveryRowOnce() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        // The fourth row reads well but cannot be a record (it has no text): the rows written before it go too.
        let rows = (1...3).map { "\($0).1,Ratify \($0),supported" }.joined(separator: "\n")
        let bad = try write("paragraph,text,response\n\(rows)\n4.1,,noted\n5.1,Ratify 5,noted\n", in: local)
        do {
            _ = try await importCSV(local, "recommendations", bad)
            Issue.record("the import was accepted")
        } catch let error as ClientError {
            #expect(error.message.contains("line 5") && error.message.contains("nothing was imported"), "\(error.message)")
        }
        #expect(try local.outbox().isEmpty)
        #expect(try await local.replica.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") } == 0)
        let fixed = try write("paragraph,text,response\n\(rows)\n4.1,Ratify 4,noted\n5.1,Ratify 5,noted\n", in: local)
        let result = try await importCSV(local, "recommendations", fixed)
        #expect(result.imported == 5 && result.updated == 0 && result.unchanged == 0)
        #expect(try await local.replica.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") } == 5)
        #expect(try local.outbox().count == 15)
        let again = try await importCSV(local, "recommendations", fixed)
        #expect(again.imported == 0 && again.updated == 0 && again.unchanged == 5)
    }

    /// Each chunk of rows is made ready on another core while the one before is stored: with chunks of 3 rows,
    /// refusals (of a cell as it is read, of a row as it is written) still name their lines, cells left out and values
    /// no term matched add up, records are stamped in the file's order, and a row that repeats an earlier one (a
    /// second recommending state, merged before anything is written) is stored once with both states.
    @Test func rowsMadeReadyAheadAreStoredInTheFilesOrder() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        var lines = (1...11).map { "\($0).1,Ratify \($0),Spain,supported" }
        lines[1] = "2.1,Ratify 2,Spain,maybe"  // line 3, first chunk: a response no term matches
        lines[4] = "5.1,,Spain,noted"  // line 6, second chunk: no text
        lines[7] = "8.1,Ratify 8,Spain,maybe"  // line 9, third chunk
        lines[9] = "3.1,Ratify 3,Portugal,supported"  // line 11: the same recommendation as line 4, by another state
        lines[10] = "11.1,,Spain,noted"  // line 12, fourth chunk: no text
        let path = try write("paragraph,text,recommending state,response\n" + lines.joined(separator: "\n") + "\n", in: local)
        do {
            _ = try await importCSV(local, "recommendations", path, chunkSize: 3)
            Issue.record("the import was accepted")
        } catch let error as ClientError {
            #expect(error.message.contains("line 3") && error.message.contains("'response'") && error.message.contains("nothing was imported"),
                    "\(error.message)")
        }
        #expect(try local.outbox().isEmpty)
        let result = try await importCSV(local, "recommendations", path, skipInvalid: true, chunkSize: 3)
        #expect(result.imported == 8)
        #expect(result.skipped.map(\.line) == [6, 12])
        #expect(result.dropped.map(\.line) == [3, 9])
        #expect(result.unknown == ["response": ["maybe": 2]])
        let stamped = try await local.replica.read { db in
            try String.fetchAll(db, sql: """
                SELECT current.value FROM outbox JOIN current ON current.record_key = outbox.record_key AND current.field = outbox.field
                WHERE outbox.field = 'text' ORDER BY outbox.hlc
                """).map { try StorageText.decodeValue($0).displayText }
        }
        #expect(stamped == [1, 2, 3, 4, 6, 7, 8, 9].map { "Ratify \($0)" })
        let states = try await local.replica.read { db in
            try ReplicaQuery.list(collection: "recommendations", filters: [], db).first { $0.fields["paragraph"] == .text("3.1") }?.fields["recommending_state"]
        }
        #expect(states == .list(["Spain", "Portugal"]))
    }

    /// A row refused while its chunk is written (the next chunk being made ready meanwhile on another core) stops the
    /// import with its line and leaves nothing, or with `--skip-invalid` is left out whole: a row without its required
    /// text, and a row whose review column names a review deleted since (found by the cell, refused by the write).
    @Test func aRowRefusedWhileChunksAreMadeReadyAheadStopsTheImportOrIsSkipped() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        var rows = (1...7).map { "\($0).1,Ratify \($0)" }
        rows[1] = "2.1,"  // line 3, in the first chunk
        do {
            _ = try await importCSV(local, "recommendations", try write("paragraph,text\n" + rows.joined(separator: "\n") + "\n", in: local), chunkSize: 2)
            Issue.record("the import was accepted")
        } catch let error as ClientError {
            #expect(error.message.contains("line 3") && error.message.contains("'text'") && error.message.contains("nothing was imported"),
                    "\(error.message)")
        }
        #expect(try local.outbox().isEmpty)
        #expect(try await local.replica.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") } == 0)

        let (review, deleted) = try local.write { editor, _ in
            let review = try editor.add(collection: "reviews", values: ["state": .text("Slovenia"), "cycle": .integer(4)])
            let deleted = try editor.add(collection: "reviews", values: ["state": .text("Slovenia"), "cycle": .integer(3)])
            try editor.delete(record: try editor.record(deleted))
            return (review, deleted)
        }
        let linked = (1...5).map { "\($0).1,Ratify \($0),\(($0 == 4 ? deleted : review).prefix(8))" }
        let path = try write("paragraph,text,review\n" + linked.joined(separator: "\n") + "\n", in: local)
        do {
            _ = try await importCSV(local, "recommendations", path, chunkSize: 2)
            Issue.record("the import was accepted")
        } catch let error as ClientError {
            #expect(error.message.contains("line 5") && error.message.contains("not a record in this replica"), "\(error.message)")
        }
        #expect(try await local.replica.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record WHERE collection = 'recommendations'") } == 0)
        let result = try await importCSV(local, "recommendations", path, skipInvalid: true, chunkSize: 2)
        #expect(result.imported == 4 && result.skipped.map(\.line) == [5])
        let reviews = try await local.replica.read { db in
            try ReplicaQuery.list(collection: "recommendations", filters: [], db).map { $0.fields["review"] }
        }
        #expect(reviews.count == 4 && reviews.allSatisfy { $0 == .reference(review) })
    }

    @Test func malformedFilesAreRefusedClearly() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let cases: [(String, String)] = [
            ("", "empty"),
            ("colour,size\nred,big\n", "no column of the header"),
            ("text,response\n\"never closed,noted\n", "never closed"),
            ("text,response\nonly one cell\n", "has 1 columns but the header has 2"),
        ]
        for (text, message) in cases {
            do {
                _ = try await importCSV(local, "recommendations", try write(text, in: local))
                Issue.record("accepted: \(text)")
            } catch let error as ClientError {
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
        var invalid = Data("text\n".utf8)
        invalid.append(contentsOf: [0x66, 0xFF, 0xFE, 0x0A])
        let path = local.home.appendingPathComponent("invalid.csv")
        try invalid.write(to: path)
        // Named as UTF-8, bytes that are not are refused; left to detection, they are read as Windows-1252.
        await #expect(throws: ClientError.self) { _ = try await importCSV(local, "recommendations", path.path, encoding: .utf8) }
        #expect(try local.outbox().isEmpty)
        let read = try await importCSV(local, "recommendations", path.path)
        #expect(read.notices.first?.contains("Windows-1252") == true)
    }

    @Test func theReportShowsTheSeedsFiguresFromTheDemoData() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        for collection in ["reviews", "sources", "recommendations", "assessments", "incidents"] {
            _ = try await importCSV(local, collection, Self.demo.appendingPathComponent("\(collection).csv").path)
        }
        let roles = try UPRReport.roles(in: local.settings.schema)
        let report = try await local.replica.read { db in try UPRReport.build(roles: roles, reviewFilter: nil, db) }
        let fourth = try #require(report.reviews.first { $0.cycle == 4 })
        #expect(fourth.recommendations == 294)
        #expect(fourth.recommendingStates == 103)
        let third = try #require(report.reviews.first { $0.cycle == 3 })
        #expect(third.recommendations == 214)
        #expect(third.byResponse == ["supported": 214])
        #expect(third.stateClaims == ["implemented": 195, "ongoing": 19])
        #expect(third.ngoFindings == ["not_implemented": 6])
        #expect(third.disagreements.count == 6)
        #expect(report.recommendations == 294 + 214)
    }

    @Test func anAliasedColumnFillsItsField() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let csv = "Recommendation,Sponsor,Position,Topics,UPR-Cycle,Implementation status\nAbolish the death penalty,Norway,noted,death_penalty,4,ongoing\n"
        let result = try await importCSV(local, "recommendations", try write(csv, in: local))
        #expect(result.imported == 1)
        #expect(result.ignoredColumns.isEmpty)
        let views = try await local.replica.read { db in try ReplicaQuery.list(collection: "recommendations", filters: [], db) }
        let view = try #require(views.first)
        #expect(view.fields["text"] == .text("Abolish the death penalty"))
        #expect(view.fields["recommending_state"] == .list(["Norway"]))
        #expect(view.fields["response"] == .text("noted"))
        #expect(view.fields["themes"] == .list(["death_penalty"]))
        #expect(view.fields["cycle"] == .integer(4))
        #expect(view.fields["status"] == .text("ongoing"))
    }

    @Test func theAliasesComeFromTheProjectsSchema() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        var schema = local.settings.schema
        let incidents = try #require(schema.collections.firstIndex { $0.name == "incidents" })
        let title = try #require(schema.collections[incidents].fields.firstIndex { $0.name == "title" })
        schema.collections[incidents].fields[title].aliases = ["headline"]
        let path = try write("Headline,Location\nRaid on a newsroom,Almaty\n", in: local)
        #expect(try await importCSV(local, "incidents", path, schema: schema).imported == 1)
        // Without the alias the column means nothing, and the file names no required title.
        await #expect(throws: ClientError.self) { _ = try await importCSV(local, "incidents", path) }
        // A replica of a upr project stored before schemas carried aliases imports by the embedded schema's.
        let old = withoutAliasesOrReport(local.settings.schema)
        let csv = "Recommendation,Sponsor\nRatify the Optional Protocol,Denmark\n"
        let result = try await importCSV(local, "recommendations", try write(csv, in: local), schema: old)
        #expect(result.imported == 1)
        #expect(result.ignoredColumns.isEmpty)
    }

    @Test func theImportHelpListsTheAliasesItPromises() throws {
        let help = Casebook.helpMessage(for: Casebook.Import.self, columns: 80)
        #expect(help.contains("by an alias the project's schema"))
        #expect(help.contains("Column aliases of the default upr schema"))
        let fields = Schema.upr.collections.flatMap { collection in collection.fields.map { (collection.name, $0) } }
        let aliased = fields.filter { !$1.aliases.isEmpty }
        #expect(aliased.count == 12)
        for (collection, field) in aliased {
            #expect(help.contains("  \(collection)\n"), "\(collection)")
            #expect(help.contains("    \(field.name): "), "\(field.name)")
            for alias in field.aliases { #expect(help.contains(" \(alias)"), "\(alias)") }
        }
        #expect(Casebook.Import.aliasList(withoutAliasesOrReport(.upr)) == "The upr schema gives no column aliases.")
        // The words read as responses are listed too.
        for alias in Schema.upr.vocabulary("response")!.terms.flatMap(\.aliases) { #expect(help.contains(" \(alias)"), "\(alias)") }
    }

    @Test func theReportNeedsASchemaThatNamesItsCollections() throws {
        #expect(try UPRReport.roles(in: Schema.upr) == Schema.upr.report)
        // A replica of a upr project stored before schemas carried report roles reports as before.
        #expect(try UPRReport.roles(in: withoutAliasesOrReport(.upr)) == Schema.upr.report)
        var other = withoutAliasesOrReport(.upr)
        other.name = "casework"
        let error = #expect(throws: ClientError.self) { try UPRReport.roles(in: other) }
        #expect(error?.message.contains("schema 'casework' has no \"report\" section") == true)
    }

    @Test func aDanglingReferenceIsShownNotFatal() throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let source = try local.add(["title": .text("Interview notes")], collection: "sources")
        let incident = try local.add(["title": .text("Raid"), "sources": .references([source])])
        try local.write { editor, db in try editor.delete(record: try RecordRef.find(source, db)) }
        let view = try local.show(incident)
        #expect(view.danglingFields == ["sources"])
        #expect(view.fields["sources"] == .references([source]))
    }
}
