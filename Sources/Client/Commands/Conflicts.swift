import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Conflicts: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "List open conflicts: each field two people changed without seeing each other's edit.",
            discussion: """
                Long text shows only where the versions differ, word by word against the text they started from: \
                [-deleted-]{+inserted+}. Edits of different parts of a long text merge by themselves and are never listed. \
                A group of fields (a date and its precision) is listed once, with each version's values of every member.
                """)

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let items = try await replica.conflicts(node: settings.node, schema: settings.schema)
            if json { return try Output.json(items.map { ConflictJSON($0.view, choices: $0.choices, text: $0.text) }) }
            if items.isEmpty { return Output.line("no open conflicts") }
            for (view, choices, text) in items {
                Output.line("conflict \(view.conflict.id)  \(view.conflict.collection) \(view.conflict.record.prefix(12)) \"\(view.title ?? "")\"  \(Self.what(view))")
                for (index, choice) in choices.enumerated() {
                    let mine = choice.isMine ? " (mine)" : ""
                    Output.line("  \(index + 1). \(choice.label)  by \(choice.version.author)\(mine) at \(Output.iso(choice.version.hlc.millis))\(index == 0 ? "  [shown now]" : "")")
                }
                if let text { Self.printDifferences(text) }
            }
            Output.note("settle one with: casebook resolve ID --pick N (or --mine, --theirs, --value VALUE, --edit for text)")
        }

        static func what(_ view: ConflictView) -> String {
            if view.conflict.field == Change.deletedField { return "deleted and edited at the same time" }
            if let group = view.group { return "fields \(group.fields.map { "'\($0)'" }.joined(separator: " and ")) (group '\(group.name)', edited together)" }
            return "field '\(view.conflict.field)'\(view.type == .longText ? " (long text)" : "")"
        }

        /// Where the versions of a text differ: for each place, the base and each version's words against it.
        static func printDifferences(_ text: TextConflict) {
            if !text.baseKnown { Output.line("  (the text they started from is not on this replica: each version is shown whole)") }
            for place in TextConflictJSON.places(text) {
                Output.line("  at line \(place.line):")
                Output.line("    base  \(TextDiff.excerpt(place.base))")
                for (index, version) in place.versions.enumerated() {
                    guard let version else { continue }
                    Output.line("    \(String(index + 1).padding(toLength: 4, withPad: " ", startingAt: 0))  \(TextDiff.inline(TextDiff.words(place.base, version)))")
                }
            }
        }
    }
}

struct ConflictJSON: Encodable {
    struct Value: Encodable {
        let value: JSONValue
        let author: String
        let at: String
        let mine: Bool
        /// A group's choice: every member's value (the member's value is absent when this replica does not hold it).
        let fields: [String: JSONValue]?
    }
    let id: String
    let record: String
    let collection: String
    let field: String
    let title: String?
    let current: JSONValue
    let values: [Value]
    /// A group's conflict: its members.
    let group: [String]?
    /// Long text: where the versions differ.
    let differences: [TextConflictJSON.Place]?

    init(_ view: ConflictView, choices: [ConflictChoice], text: TextConflict?) {
        id = view.conflict.id
        record = view.conflict.record
        collection = view.conflict.collection
        field = view.conflict.field
        title = view.title
        current = JSONValue(view.current)
        values = choices.map {
            Value(value: JSONValue($0.fields == nil ? $0.value : .unset), author: $0.version.author, at: Output.iso($0.version.hlc.millis),
                  mine: $0.isMine, fields: $0.fields?.mapValues(JSONValue.init))
        }
        group = view.group?.fields
        differences = text.map(TextConflictJSON.places)
    }
}

/// Where the versions of a text conflict differ, as `conflicts` prints them and its JSON holds them.
enum TextConflictJSON {
    struct Place: Encodable {
        /// The line (from 1) where the place starts, in the text as merged so far.
        let line: Int
        /// The base's lines there.
        let base: String
        /// Each version's lines there, null for a version that left them as they were.
        let versions: [String?]
    }

    static func places(_ text: TextConflict) -> [Place] {
        var line = 1
        var places: [Place] = []
        for piece in text.pieces {
            switch piece {
            case .clean(let clean):
                line += clean.utf8.filter { $0 == 0x0A }.count
            case .conflict(let base, let versions):
                places.append(Place(line: line, base: base, versions: versions))
                line += base.utf8.filter { $0 == 0x0A }.count
            }
        }
        return places
    }
}
