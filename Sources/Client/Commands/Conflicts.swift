import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Conflicts: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "List open conflicts: each field two people changed without seeing each other's edit.")

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let items = try await replica.conflicts(node: settings.node)
            if json {
                return try Output.json(items.map { view, choices in
                    ConflictJSON(
                        id: view.conflict.id, record: view.conflict.record, collection: view.conflict.collection, field: view.conflict.field,
                        title: view.title, current: JSONValue(view.current),
                        values: choices.map { .init(value: JSONValue($0.value), author: $0.version.author, at: Output.iso($0.version.hlc.millis), mine: $0.isMine) })
                })
            }
            if items.isEmpty { return Output.line("no open conflicts") }
            for (view, choices) in items {
                let what = view.conflict.field == Change.deletedField ? "deleted and edited at the same time" : "field '\(view.conflict.field)'"
                Output.line("conflict \(view.conflict.id)  \(view.conflict.collection) \(view.conflict.record.prefix(12)) \"\(view.title ?? "")\"  \(what)")
                for (index, choice) in choices.enumerated() {
                    let mine = choice.isMine ? " (mine)" : ""
                    Output.line("  \(index + 1). \(choice.label)  by \(choice.version.author)\(mine) at \(Output.iso(choice.version.hlc.millis))\(index == 0 ? "  [shown now]" : "")")
                }
            }
            Output.note("settle one with: casebook resolve ID --pick N (or --mine, --theirs, --value VALUE)")
        }
    }
}

struct ConflictJSON: Encodable {
    struct Value: Encodable {
        let value: JSONValue
        let author: String
        let at: String
        let mine: Bool
    }
    let id: String
    let record: String
    let collection: String
    let field: String
    let title: String?
    let current: JSONValue
    let values: [Value]
}
