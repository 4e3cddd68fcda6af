import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Export: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a collection's records to stdout as CSV or JSON.",
            discussion: """
                CSV round-trips through 'casebook import': lists as comma-separated items (or a JSON array when an item holds a comma), dates as YYYY-MM-DD, references by id.
                A CSV cell that starts with =, +, -, @, a tab or a carriage return (and is not a whole number) is written with a single quote in front, so that a spreadsheet shows it as text instead of running it as a formula (a value such as =HYPERLINK(...) could send data elsewhere when the file is opened). 'casebook import' removes that quote again. --raw writes the values unchanged.
                """)

        @Argument(help: "The collection.")
        var collection: String

        @Option(help: "csv or json.")
        var format: ExportFormat = .csv

        @Flag(help: "CSV only: write cells that a spreadsheet would run as formulas unchanged, without the protecting quote.")
        var raw = false

        @Flag(help: "Include the values of sensitive fields (names, contacts) in plain text; without it they are left out.")
        var includeSensitive = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            var schema = try settings.schema.requireCollection(collection)
            var views = try await replica.records(in: collection, schema: settings.schema)
            let sensitive = Set(schema.fields.filter(\.sensitive).map(\.name))
            if !sensitive.isEmpty {
                if includeSensitive {
                    Output.note("warning: the export holds the sensitive fields \(sensitive.sorted().joined(separator: ", ")) in plain text: keep the file as safe as the replica")
                } else {
                    schema.fields.removeAll { $0.sensitive }
                    Output.note("the sensitive fields \(sensitive.sorted().joined(separator: ", ")) are left out: add --include-sensitive to export them")
                }
            }
            // What this replica cannot open (or was told to leave out) is not exported, sealed or otherwise.
            var sealed = 0
            for index in views.indices {
                for field in sensitive where views[index].fields[field] != nil {
                    if !includeSensitive || views[index].fields[field]!.isSealed {
                        if includeSensitive { sealed += 1 }
                        views[index].fields[field] = nil
                    }
                }
            }
            if sealed > 0 { Output.note("\(sealed) sensitive value\(sealed == 1 ? " is" : "s are") sealed with a key this replica does not hold: left out") }
            switch format {
            case .json:
                try Output.json(views.map { RecordJSON($0, detailed: false) })
            case .csv:
                CSVWriter.export(views, schema: schema, raw: raw) { FileHandle.standardOutput.write(Data($0.utf8)) }
            }
        }
    }
}

enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
    case csv, json
}
