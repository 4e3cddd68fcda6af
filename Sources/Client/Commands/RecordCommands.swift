import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Add: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a record to a collection; prints its id.",
            discussion: "Example: casebook add incidents --set title='Journalist detained' --set date=2025-01-20 --set themes=freedom_of_expression_and_media")

        @Argument(help: "The collection, e.g. incidents, recommendations, persons, sources.")
        var collection: String

        @Option(name: .customLong("set"), help: ArgumentHelp("A field's value. Lists are comma-separated; dates YYYY-MM-DD.", valueName: "FIELD=VALUE"))
        var sets: [String] = []

        @Flag(help: "Print {\"id\": \"...\"}.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws { try Assignments.validateShape(sets, option: "--set") }

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let id = try await replica.database.write { db in
                let values = try Assignments.parse(sets, collection: collection, schema: settings.schema, db)
                var editor = try LocalEditor(settings: settings, db: db)
                let id = try editor.add(collection: collection, values: values)
                try editor.finish()
                return id
            }
            if json { try Output.json(["id": id]) } else { Output.line(id) }
        }
    }

    struct Edit: ReplicaCommand {
        static let configuration = CommandConfiguration(abstract: "Change fields of a record.")

        @Argument(help: "The record's id, or a unique prefix of at least 6 characters.")
        var id: String

        @Option(name: .customLong("set"), help: ArgumentHelp("A field's new value.", valueName: "FIELD=VALUE"))
        var sets: [String] = []

        @Option(name: .customLong("unset"), help: ArgumentHelp("A field to clear.", valueName: "FIELD"))
        var unsets: [String] = []

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws {
            try Assignments.validateShape(sets, option: "--set")
            guard !sets.isEmpty || !unsets.isEmpty else { throw ValidationError("give at least one --set FIELD=VALUE or --unset FIELD") }
        }

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let ref = try await replica.database.write { db in
                let ref = try RecordRef.find(id, db)
                let values = try Assignments.parse(sets, unsets: unsets, collection: ref.collection, schema: settings.schema, db)
                var editor = try LocalEditor(settings: settings, db: db)
                try editor.edit(record: ref, values: values)
                try editor.finish()
                return ref
            }
            Output.line("edited \(ref.id)")
        }
    }

    struct Delete: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a record.",
            discussion: "If someone edits the record before they see the delete, the two become a conflict to resolve; nothing is lost silently.")

        @Argument(help: "The record's id, or a unique prefix of at least 6 characters.")
        var id: String

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let ref = try await replica.database.write { db in
                let ref = try RecordRef.find(id, db)
                var editor = try LocalEditor(settings: settings, db: db)
                try editor.delete(record: ref)
                try editor.finish()
                return ref
            }
            Output.line("deleted \(ref.id)")
        }
    }

    struct Show: ReplicaCommand {
        static let configuration = CommandConfiguration(abstract: "Show a record, with your pending edits.")

        @Argument(help: "The record's id, or a unique prefix of at least 6 characters.")
        var id: String

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let view = try await replica.database.read { db in try ReplicaQuery.record(try RecordRef.find(id, db), db) }
            if json { return try Output.json(RecordJSON(view, detailed: true)) }
            Output.line("\(view.collection) \(view.id)\(view.visible ? "" : " (deleted)")\(view.pending ? " (pending sync)" : "")")
            let order = settings.schema.collection(view.collection)?.fields.map(\.name) ?? []
            let names = order.filter { view.fields[$0] != nil } + view.fields.keys.filter { !order.contains($0) }.sorted()
            let width = names.map(\.count).max() ?? 0
            for name in names {
                let marker = view.conflictFields.contains(name) ? "  (in conflict)"
                    : view.danglingFields.contains(name) ? "  (refers to a record that was deleted or is not here)" : ""
                let text = view.fields[name]!.displayText.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: width + 4))
                Output.line("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(text)\(marker)")
            }
            if view.conflictFields.contains(Change.deletedField) {
                Output.line("  deleted by someone while edited by someone else: see 'casebook conflicts'")
            }
        }
    }

    struct List: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the records of a collection.",
            discussion: "Example: casebook list recommendations --where response=supported --where themes=death_penalty")

        @Argument(help: "The collection.")
        var collection: String

        @Option(name: .customLong("where"), help: ArgumentHelp("Only records whose field has this value (or, for a list, this item).", valueName: "FIELD=VALUE"))
        var filters: [String] = []

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws { try Assignments.validateShape(filters, option: "--where") }

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let schema = settings.schema
            let views = try await replica.database.read { db in
                let collectionSchema = try schema.requireCollection(collection)
                var keys: [(field: String, key: String)] = []
                for filter in filters {
                    let (field, text) = Assignments.split(filter)
                    let value = try Assignments.value(text, field: field, collection: collectionSchema, schema: schema, db)
                    keys += Replica.searchKeys(value).map { (field, $0) }
                }
                return try ReplicaQuery.list(collection: collection, filters: keys, db)
            }
            if json { return try Output.json(views.map { RecordJSON($0, detailed: false) }) }
            let titleField = schema.collection(collection)?.titleField ?? ""
            for view in views {
                let title = view.fields[titleField]?.displayText.replacingOccurrences(of: "\n", with: " ") ?? ""
                Output.line("\(view.id.prefix(12))  \(title.prefix(100))\(view.pending ? "  *" : "")")
            }
            Output.note("\(views.count) record\(views.count == 1 ? "" : "s")\(views.contains { $0.pending } ? " (* = pending sync)" : "")")
        }
    }
}
