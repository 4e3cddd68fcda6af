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
            let (id, sets, unsets) = (self.id, self.sets, self.unsets)
            let ref = try await replica.edit(settings: settings) { editor in
                let ref = try editor.record(id)
                try editor.edit(record: ref, values: try editor.values(sets, unsets: unsets, collection: ref.collection))
                return ref
            }
            Output.line("edited \(ref.id)")
        }
    }
}
