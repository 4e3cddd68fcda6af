import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct List: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the records of a collection.",
            discussion: "Example: casebook list recommendations --where response=supported --where themes=death_penalty")

        @Argument(help: "The collection.")
        var collection: String

        @Option(name: .customLong("where"), help: ArgumentHelp("Only records whose field has this value (or, for a list, this item).", valueName: "FIELD=VALUE"))
        var filters: [String] = []

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws { try Assignments.validateShape(filters, option: "--where") }

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let schema = settings.schema
            let views = try await replica.records(in: collection, where: filters, schema: schema)
            if json { return try Output.json(views.map { RecordJSON($0, detailed: false) }) }
            let titleField = schema.collection(collection)?.titleField ?? ""
            for view in views {
                let title = view.fields[titleField]?.shownText.replacingOccurrences(of: "\n", with: " ") ?? ""
                Output.line("\(view.id.prefix(12))  \(title.prefix(100))\(view.pending ? "  *" : "")")
            }
            Output.note("\(views.count) record\(views.count == 1 ? "" : "s")\(views.contains { $0.pending } ? " (* = pending sync)" : "")")
        }
    }
}
