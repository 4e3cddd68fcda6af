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
            let result = try await CSVImporter(settings: settings, collection: collection, path: file, skipInvalid: skipInvalid, progress: Progress()).run(replica)
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

    struct Export: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a collection's records to stdout as CSV or JSON.",
            discussion: "CSV round-trips through 'casebook import': lists as comma-separated items (or a JSON array when an item holds a comma), dates as YYYY-MM-DD, references by id.")

        @Argument(help: "The collection.")
        var collection: String

        @Option(help: "csv or json.")
        var format: ExportFormat = .csv

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let schema = try settings.schema.requireCollection(collection)
            let views = try await replica.database.read { db in try ReplicaQuery.list(collection: collection, filters: [], db) }
            switch format {
            case .json:
                try Output.json(views.map { RecordJSON($0, detailed: false) })
            case .csv:
                CSVWriter.export(views, schema: schema) { FileHandle.standardOutput.write(Data($0.utf8)) }
            }
        }
    }
}

enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
    case csv, json
}
