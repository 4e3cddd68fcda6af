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

        @Option(help: ArgumentHelp("Restrict the record to these groups (and the project's admins) from the start.", valueName: "GROUP[,GROUP]"))
        var access: String?

        @Flag(help: "Print {\"id\": \"...\"}.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws {
            try Assignments.validateShape(sets, option: "--set")
            if let access, Restrict.groups(access).isEmpty || !Restrict.groups(access).allSatisfy(AccessRule.isValidGroupName) {
                throw ValidationError("--access takes group names (\(AccessRule.groupNameRule)), comma-separated, not '\(access.prefix(80))'")
            }
        }

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let (collection, sets, access) = (self.collection, self.sets, access.map(Restrict.groups) ?? [])
            let id = try await replica.edit(settings: settings) { editor in
                try editor.add(collection: collection, values: try editor.values(sets, collection: collection), access: access)
            }
            if json { try Output.json(["id": id]) } else { Output.line(id) }
        }
    }
}
