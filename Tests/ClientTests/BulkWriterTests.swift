import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// Differential tests of an import's write path: random rows written through `BulkWriter` leave exactly the replica
/// that record-by-record edits (`LocalEditor.add` and `put`) leave: the same record rows and keys, outbox entries
/// (values, timestamps, bases), current values, search keys, conflicts and clock; and the same rows refused; whether
/// the rows were made ready first, away from the database (`BulkWriter.NewRecord`, as an import does) or as they are stored.
@Suite struct BulkWriterTests {
    /// Both replicas' clocks start here, ahead of the wall clock, so that both stamp the same timestamps.
    static let clockStart = HLC(millis: 4_000_000_000_000, counter: 0, node: NodeID("00000000000000a1")!)

    @Test(arguments: Array(UInt64(1)...12)) func bulkWritesWhatRecordByRecordEditsWrite(seed: UInt64) throws {
        let single = try TemporaryReplica(), bulk = try TemporaryReplica()
        defer { single.cleanUp(); bulk.cleanUp() }
        var generator = SplitMix64(seed: seed)
        let setup = Self.setup(&generator)
        let rows = (0..<(60 + Int(seed % 4) * 40)).map { _ in Self.row(&generator, setup: setup) }

        // Every third seed: the records added are restricted to a group (an `_access` change stamped first).
        let access = seed % 3 == 0 ? ["witnesses"] : []
        let singleOutcomes = try write(rows, setup: setup, into: single) { editor, _, row in
            guard let put = row.put else { return "\(try editor.add(collection: "recommendations", values: row.values, id: row.id, access: access))" }
            return "\(try editor.put(record: put, collection: "recommendations", values: row.values))"
        }
        // Even seeds: the rows made ready first (`BulkWriter.NewRecord`), as an import does on another core; odd seeds:
        // handed over as values, made ready as they are stored.
        let prepares = seed % 2 == 0
        let bulkOutcomes = try write(rows, setup: setup, into: bulk) { editor, writer, row in
            let prepared = prepares ? BulkWriter.NewRecord(collection: "recommendations", values: row.values, schema: editor.schema, now: editor.now) : nil
            guard let put = row.put else {
                if let prepared { return "\(try writer.add(prepared, id: row.id, access: access, editor: &editor))" }
                return "\(try writer.add(collection: "recommendations", values: row.values, id: row.id, access: access, editor: &editor))"
            }
            return "\(try writer.put(record: put, collection: "recommendations", values: row.values, prepared: prepared, editor: &editor))"
        }
        #expect(bulkOutcomes == singleOutcomes, "seed \(seed): outcomes")
        #expect(singleOutcomes.contains { $0.hasPrefix("refused") } && singleOutcomes.contains { !$0.hasPrefix("refused") }, "seed \(seed)")
        for table in Self.tables {
            let expected = try Self.dump(table, single), found = try Self.dump(table, bulk)
            #expect(found == expected, "seed \(seed): table \(table) differs")
            #expect(!expected.isEmpty || table == "conflict" || table == "change", "seed \(seed): \(table) is empty")
        }
    }

    /// The records rows may refer to or update, made alike in both replicas.
    struct Setup {
        var reviews: [String]
        var deletedReview: String
        var existing: [String]
    }

    struct ImportRow {
        var values: [String: FieldValue]
        var id: String?
        /// The record `put` updates (or adds, when the replica does not have it).
        var put: String?
    }

    /// Writes the setup records and then `rows` in one transaction, each row through `body`; returns what each did.
    private func write(_ rows: [ImportRow], setup: Setup, into local: TemporaryReplica,
                       _ body: (inout LocalEditor, inout BulkWriter, ImportRow) throws -> String) throws -> [String] {
        try local.replica.write { db in try Setting.set(.clock, Self.clockStart.text, db) }
        return try local.write { editor, _ in
            for id in setup.reviews + [setup.deletedReview] {
                _ = try editor.add(collection: "reviews", values: ["state": .text("Slovenia \(id.prefix(4))"), "cycle": .integer(4)], id: id)
            }
            try editor.delete(record: try editor.record(setup.deletedReview))
            for (index, id) in setup.existing.enumerated() {
                _ = try editor.add(collection: "recommendations", values: ["text": .text("Existing \(index)"), "paragraph": .text("9.\(index)")], id: id)
            }
            var writer = try BulkWriter(editor)
            return rows.map { row in
                do { return try body(&editor, &writer, row) } catch { return "refused: \(error)" }
            }
        }
    }

    static let tables = ["record", "outbox", "current", "search_key", "conflict", "change", "setting"]

    /// Every row of `table`, every column, in a fixed order.
    static func dump(_ table: String, _ local: TemporaryReplica) throws -> [String] {
        try local.replica.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map { row in
                row.columnNames.map { "\($0)=\(row[$0] as DatabaseValue)" }.joined(separator: " ")
            }.sorted()
        }
    }

    static func setup(_ generator: inout SplitMix64) -> Setup {
        Setup(reviews: (0..<3).map { _ in id(&generator) }, deletedReview: id(&generator), existing: (0..<5).map { _ in id(&generator) })
    }

    static func id(_ generator: inout SplitMix64) -> String { RecordID.generate(now: 1_737_600_000_000, using: &generator) }

    static let words = ["Ratify", "the", "Optional", "Protocol", "ensure", "Türkiye", "café", "e\u{301}", "\"quoted\"", "a/b", "back\\slash",
                        "Korea, Republic of", "  spaced  ", "日本", "🇸🇮", "(Maldives)", "line\nbreak", "tab\there"]

    static func text(_ generator: inout SplitMix64, words count: Int) -> String {
        (0..<count).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
    }

    static func list(_ generator: inout SplitMix64, from items: [String]) -> [String] {
        Array(Set((0..<Int.random(in: 0...3, using: &generator)).map { _ in items.randomElement(using: &generator)! })).sorted()
    }

    /// A row of random recommendation fields; now and then with a value the schema refuses, a reference to a deleted
    /// record, a value over the search index's key length, or a `put` of an existing or a new id.
    static func row(_ generator: inout SplitMix64, setup: Setup) -> ImportRow {
        let schema = Schema.upr
        func terms(_ vocabulary: String) -> [String] { schema.vocabulary(vocabulary)!.terms.map(\.id) }
        var values: [String: FieldValue] = ["text": .text(text(&generator, words: Int.random(in: 1...40, using: &generator)))]
        func maybe(_ field: String, _ value: @autoclosure () -> FieldValue) {
            if Bool.random(using: &generator) { values[field] = value() }
        }
        maybe("paragraph", .text("\(Int.random(in: 100...160, using: &generator)).\(Int.random(in: 1...300, using: &generator))"))
        maybe("recommending_state", .list(list(&generator, from: ["Maldives", "Portugal", "Türkiye", "Viet Nam", "Spain"])))
        maybe("themes", .list(list(&generator, from: terms("themes"))))
        maybe("un_themes", .list(list(&generator, from: ["Ratification of & accession to international instruments", "Domestic violence"])))
        maybe("response", .text(terms("response").randomElement(using: &generator)!))
        maybe("action_category", .text(terms("action_category").randomElement(using: &generator)!))
        maybe("cycle", .integer(Int64.random(in: 1...4, using: &generator)))
        maybe("review", .reference(setup.reviews.randomElement(using: &generator)!))
        maybe("source_of_position", .text(String(repeating: "A/HRC/59/15 ", count: Int.random(in: 1...60, using: &generator))))
        maybe("status", .unset)
        switch Int.random(in: 0..<20, using: &generator) {
        case 0: values["response"] = .text("maybe")
        case 1: values["review"] = .reference(setup.deletedReview)
        case 2: values["text"] = .text("  \n ")
        case 3: values["repeats"] = .references([setup.existing.randomElement(using: &generator)!])
        default: break
        }
        switch Int.random(in: 0..<8, using: &generator) {
        case 0: return ImportRow(values: values, put: setup.existing.randomElement(using: &generator)!)
        case 1: return ImportRow(values: values, put: id(&generator))
        default: return ImportRow(values: values, id: id(&generator))
        }
    }
}
