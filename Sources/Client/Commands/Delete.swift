import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Delete: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a record.",
            discussion: "If someone edits the record before they see the delete, the two become a conflict to resolve; nothing is lost silently.")

        @Argument(help: "The record's id, or a unique prefix of at least 6 characters.")
        var id: String

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let id = self.id
            let ref = try await replica.edit(settings: settings) { editor in
                let ref = try editor.record(id)
                try editor.delete(record: ref)
                return ref
            }
            Output.line("deleted \(ref.id)")
        }
    }
}
