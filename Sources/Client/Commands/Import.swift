import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Import: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import records from a CSV file with a header row.",
            discussion: """
                Columns are matched to fields by name or by an alias the project's schema
                gives, ignoring case and reading '_' and '-' as spaces. An 'id' column
                updates existing records (as 'casebook export' writes it). Every row is
                checked first: a bad row stops the whole import, with its line number,
                unless --skip-invalid is given.


                """ + aliasList(Schema.upr))

        /// The column aliases `schema` gives, by collection and field, for the help (which cannot read a
        /// replica's schema). Wrapped here, so that lines keep their indent in an 80-column terminal.
        static func aliasList(_ schema: Schema) -> String {
            var lines: [String] = []
            for collection in schema.collections where collection.fields.contains(where: { !$0.aliases.isEmpty }) {
                lines.append("  \(collection.name)")
                for field in collection.fields where !field.aliases.isEmpty {
                    var line = "    \(field.name):"
                    for (index, alias) in field.aliases.enumerated() {
                        let item = " \(alias)" + (index == field.aliases.count - 1 ? "" : ",")
                        if line.count + item.count > 78 {
                            lines.append(line)
                            line = "     "
                        }
                        line += item
                    }
                    lines.append(line)
                }
            }
            guard !lines.isEmpty else { return "The \(schema.name) schema gives no column aliases." }
            return (["Column aliases of the default \(schema.name) schema (a project's own may differ):"] + lines)
                .joined(separator: "\n")
        }

        @Argument(help: "The collection to import into.")
        var collection: String

        @Argument(help: "The CSV file (UTF-8).")
        var file: String

        @Flag(name: .customLong("skip-invalid"), help: "Import the valid rows and report the others, instead of refusing the file.")
        var skipInvalid = false

        @Flag(help: "Print {\"imported\": N, \"skipped\": N}.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let result = try await CSVImporter(settings: settings, collection: collection, path: file, skipInvalid: skipInvalid, progress: ProgressLine()).run(replica)
            for problem in result.skipped { Output.note("skipped line \(problem.line): \(problem.message)") }
            for column in result.ignoredColumns { Output.note("ignored column '\(column)': the collection has no such field") }
            if json {
                try Output.json(["imported": result.imported, "skipped": result.skipped.count])
            } else {
                Output.line("imported \(result.imported) record\(result.imported == 1 ? "" : "s") into \(collection)"
                            + (result.skipped.isEmpty ? "" : ", skipped \(result.skipped.count) invalid row\(result.skipped.count == 1 ? "" : "s")"))
            }
        }
    }
}
