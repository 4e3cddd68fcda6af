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
}
