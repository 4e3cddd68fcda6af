import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
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
}
