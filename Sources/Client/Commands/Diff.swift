import ArgumentParser
import Foundation
import Shared

extension Casebook {
    struct Diff: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what changed between versions of a record's fields.",
            discussion: """
                Each version, oldest first (pending edits last), beside the value its author started from. Text shows the lines \
                that changed, word by word: [-deleted-]{+inserted+}. Works offline for every version this replica holds \
                ('casebook log' lists them).
                """)

        @Argument(help: "The record's id, or a unique prefix of at least 6 characters.")
        var id: String

        @Argument(help: "One field (default: every field).")
        var field: String?

        @Flag(help: "Print JSON, oldest first.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let diffs = try await replica.diffs(id, field: field, schema: settings.schema, user: settings.user)
            if json { return try Output.json(diffs.map(DiffJSON.init)) }
            if diffs.isEmpty { return Output.line(field.map { "no versions of '\($0)' on this replica" } ?? "no versions on this replica") }
            for diff in diffs {
                let notes = (diff.resolution ? "  (built on several versions)" : "") + (diff.pending ? "  (pending sync)" : "")
                Output.line("\(Output.iso(diff.hlc.millis))  \(diff.author)  \(diff.field)\(notes)")
                for line in Self.describe(diff) { Output.line("  " + line) }
            }
        }

        /// The lines that say what a version changed.
        static func describe(_ diff: FieldDiff) -> [String] {
            guard let before = diff.before else {
                return ["set to \(TextDiff.excerpt(diff.after.shownText))  (the version before is not on this replica)"]
            }
            if before == diff.after { return ["unchanged"] }
            if diff.after.isUnset { return ["cleared (was \(TextDiff.excerpt(before.shownText)))"] }
            if case .text(let old) = before, case .text(let new) = diff.after, old.contains("\n") || new.contains("\n") {
                return TextDiff.hunks(old, new).map { "at line \($0.newLine): \(TextDiff.inline($0.runs))" }
            }
            if before.isUnset { return ["set to \(TextDiff.excerpt(diff.after.shownText))"] }
            return [TextDiff.inline(TextDiff.words(before.shownText, diff.after.shownText))]
        }
    }
}

struct DiffJSON: Encodable {
    struct Place: Encodable {
        let line: Int
        let runs: [Run]
    }
    struct Run: Encodable {
        let kind: String
        let text: String
    }
    let field: String
    let author: String
    let at: String
    let pending: Bool
    let resolution: Bool
    /// The value the version replaced; null when this replica does not hold it (or the field was unset).
    let before: JSONValue?
    let value: JSONValue
    /// For text: each changed place, its line (in the new text) and its word diff.
    let changes: [Place]?

    init(_ diff: FieldDiff) {
        field = diff.field
        author = diff.author
        at = Output.iso(diff.hlc.millis)
        pending = diff.pending
        resolution = diff.resolution
        before = diff.before.map(JSONValue.init)
        value = JSONValue(diff.after)
        if case .text(let new) = diff.after {
            var old = ""
            if case .text(let text)? = diff.before { old = text }
            changes = diff.before == nil ? nil : TextDiff.hunks(old, new).map { hunk in
                Place(line: hunk.newLine, runs: hunk.runs.map { Run(kind: $0.kind.rawValue, text: $0.text) })
            }
        } else {
            changes = nil
        }
    }
}
