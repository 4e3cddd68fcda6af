import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Show: ReplicaCommand {
        static let configuration = CommandConfiguration(abstract: "Show a record, with your pending edits.")

        @Argument(help: "The record's id, or a unique prefix of at least 6 characters.")
        var id: String

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let view = try await replica.record(id)
            let access = try await replica.access(view.id)
            if json {
                var record = RecordJSON(view, detailed: true)
                record.access = access.isEmpty ? nil : access
                return try Output.json(record)
            }
            Output.line("\(view.collection) \(view.id)\(view.visible ? "" : " (deleted)")\(view.pending ? " (pending sync)" : "")")
            if !access.isEmpty { Output.line("  restricted to \(access.joined(separator: ", ")) (and the project's admins)") }
            let order = settings.schema.collection(view.collection)?.fields.map(\.name) ?? []
            let names = order.filter { view.fields[$0] != nil } + view.fields.keys.filter { !order.contains($0) }.sorted()
            let width = names.map(\.count).max() ?? 0
            // A group's conflict marks each of its members.
            let groups = settings.schema.collection(view.collection)?.groups ?? []
            let conflicted = Set(view.conflictFields + groups.filter { view.conflictFields.contains($0.name) }.flatMap(\.fields))
            for name in names {
                let marker = conflicted.contains(name) ? "  (in conflict)"
                    : view.danglingFields.contains(name) ? "  (refers to a record that was deleted or is not here)" : ""
                let text = view.fields[name]!.shownText.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: width + 4))
                Output.line("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(text)\(marker)")
            }
            let files = try await replica.files(of: view.id, schema: settings.schema).files
            if !files.isEmpty {
                Output.line("  files:")
                for line in Files.lines(files) { Output.line("    \(line)") }
            }
            if view.conflictFields.contains(Change.deletedField) {
                Output.line("  deleted by someone while edited by someone else: see 'casebook conflicts'")
            }
        }
    }
}
