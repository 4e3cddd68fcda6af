import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
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
            let views = try await replica.records(in: collection, schema: settings.schema)
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
