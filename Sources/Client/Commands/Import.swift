import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Import: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import records from a CSV file with a header row.",
            discussion: """
                Columns are matched to fields by name, case-insensitively (common aliases too: see 'casebook import --help').
                An 'id' column updates existing records (as 'casebook export' writes it). Every row is checked first:
                a bad row stops the whole import, with its line number, unless --skip-invalid is given.
                """)

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
