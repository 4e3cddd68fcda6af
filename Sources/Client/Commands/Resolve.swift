import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Resolve: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle a conflict: keep one of its values, write a new one, or edit a text's versions together.",
            discussion: """
                The resolution is a change like any other: the next sync publishes it, and the conflict is gone everywhere once \
                replicas sync. On a terminal, without a choice, it asks.

                --edit opens the text in $EDITOR (else $VISUAL, else vi) with what merged cleanly merged and each place where the \
                versions differ between conflict markers, the base shown (<<<<<<< one version ||||||| base ======= the other >>>>>>>). \
                Keep what should stay, delete the markers, save and quit: the text is published as the resolution. While a marker \
                remains, or when the editor exits with a failure, nothing changes and the conflict stays open.

                A conflict of a group of fields (a date and its precision) is settled as a whole: --pick N keeps one version of every \
                member, --set FIELD=VALUE writes new values (members not named keep the value shown).
                """)

        @Argument(help: "The conflict's id (or a unique prefix of at least 6 characters), from 'casebook conflicts'.")
        var conflictID: String

        @Flag(help: "Keep the value this replica wrote.")
        var mine = false

        @Flag(help: "Keep the other side's value.")
        var theirs = false

        @Option(help: "Keep the Nth value as 'casebook conflicts' lists them (from 1).")
        var pick: Int?

        @Option(help: "Write this value instead (for a delete conflict: 'delete' or 'keep').")
        var value: String?

        @Flag(help: "Edit a text's versions together in $EDITOR, between conflict markers.")
        var edit = false

        @Option(name: .customLong("set"), help: ArgumentHelp("For a group of fields: write this member's value (repeatable).", valueName: "FIELD=VALUE"))
        var sets: [String] = []

        @OptionGroup var homeOptions: HomeOptions

        private var choices: Int { [mine, theirs, pick != nil, value != nil, edit, !sets.isEmpty].filter { $0 }.count }

        func validate() throws {
            guard choices <= 1 else { throw ValidationError("choose one of --mine, --theirs, --pick N, --value VALUE, --edit, --set FIELD=VALUE") }
            if choices == 0 && isatty(STDIN_FILENO) != 1 {
                throw ValidationError("choose one of --mine, --theirs, --pick N, --value VALUE, --edit (or run it on a terminal to be asked)")
            }
            if let pick, pick < 1 { throw ValidationError("--pick counts from 1") }
        }

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let edited = edit ? try await editedText(replica: replica, settings: settings) : nil
            let pickNumber = choices == 0 ? try await ask(replica: replica, settings: settings) : pick
            let (command, conflictID) = (self, self.conflictID)
            let resolved = try await replica.edit(settings: settings) { editor in
                let (view, choices) = try editor.conflict(conflictID)
                if let edited {
                    // The conflict must be the one edited: a sync meanwhile may have changed its versions.
                    guard view.conflict.id == edited.conflict else {
                        throw ClientError("the conflict changed while it was being edited (a sync brought another version): nothing was changed; see 'casebook conflicts' and edit again")
                    }
                    try editor.resolve(view.conflict, with: edited.value)
                } else if let group = view.group {
                    try editor.resolve(view.conflict, group: group, with: try command.chooseGroup(view: view, group: group, choices: choices, pick: pickNumber, editor: editor))
                } else {
                    try editor.resolve(view.conflict, with: try command.choose(view: view, choices: choices, pick: pickNumber, editor: editor))
                }
                return view
            }
            Output.line("resolved \(resolved.conflict.id) (\(resolved.conflict.collection) \(resolved.conflict.record.prefix(12)) \(resolved.conflict.field)); 'casebook sync' publishes it")
        }

        /// The value the resolution writes.
        private func choose(view: ConflictView, choices: [ConflictChoice], pick: Int?, editor: LocalEditor) throws -> FieldValue {
            guard sets.isEmpty else { throw ClientError("--set is for a conflict of a group of fields; this one is about '\(view.conflict.field)': use --value VALUE") }
            let isDeletion = view.conflict.field == Change.deletedField
            func resolution(_ choice: ConflictChoice) -> FieldValue {
                isDeletion ? .bool(choice.version.value == .bool(true)) : choice.version.value
            }
            if let chosen = try pickedChoice(view: view, choices: choices, pick: pick, same: { resolution($0) == resolution($1) }) {
                return resolution(chosen)
            }
            guard let value else { throw ClientError("choose one of --mine, --theirs, --pick N, --value VALUE") }
            if isDeletion {
                switch value.lowercased() {
                case "delete", "deleted": return .bool(true)
                case "keep", "kept", "restore": return .bool(false)
                default: throw ClientError("this conflict is about deleting the record: --value takes 'delete' or 'keep'")
                }
            }
            let collection = try editor.schema.requireCollection(view.conflict.collection)
            return try editor.value(value, field: view.conflict.field, collection: collection)
        }

        /// Every member's value for a group's resolution: one version's, or the values set (the others as shown).
        private func chooseGroup(view: ConflictView, group: FieldGroup, choices: [ConflictChoice], pick: Int?,
                                 editor: LocalEditor) throws -> [String: FieldValue] {
            guard value == nil else {
                throw ClientError("this conflict is about the group '\(group.name)' (\(group.fields.joined(separator: ", "))): keep one version with --pick N, or write values with --set FIELD=VALUE")
            }
            if let chosen = try pickedChoice(view: view, choices: choices, pick: pick, same: { $0.fields == $1.fields }) {
                guard let fields = chosen.fields, fields.count == group.fields.count else {
                    throw ClientError("this replica does not hold every value of that version: use --set FIELD=VALUE for \(group.fields.joined(separator: ", "))")
                }
                return fields
            }
            let set = try editor.values(sets, collection: view.conflict.collection)
            if let stranger = set.keys.first(where: { !group.fields.contains($0) }) {
                throw ClientError("'\(stranger)' is not in the group '\(group.name)': --set takes \(group.fields.joined(separator: ", "))")
            }
            let shown = try ReplicaQuery.record(try editor.record(view.conflict.record), editor.db).fields
            return Dictionary(uniqueKeysWithValues: group.fields.map { ($0, set[$0] ?? shown[$0] ?? .unset) })
        }

        /// The choice `--pick`, `--mine` or `--theirs` names, nil when none was given.
        private func pickedChoice(view: ConflictView, choices: [ConflictChoice], pick: Int?,
                                  same: (ConflictChoice, ConflictChoice) -> Bool) throws -> ConflictChoice? {
            if let pick {
                guard pick <= choices.count else {
                    throw ClientError("conflict \(view.conflict.id) has \(choices.count) values: pick 1 to \(choices.count)")
                }
                return choices[pick - 1]
            }
            if mine {
                guard let choice = choices.first(where: \.isMine) else {
                    throw ClientError("no value of this conflict was written on this replica: use --pick N (see 'casebook conflicts')")
                }
                return choice
            }
            if theirs {
                let others = choices.filter { !$0.isMine }
                guard let first = others.first else { throw ClientError("every value of this conflict was written here: use --pick N") }
                guard others.allSatisfy({ same($0, first) }) else {
                    throw ClientError("several other people's values compete here: choose one with --pick N (see 'casebook conflicts')")
                }
                return first
            }
            return nil
        }

        /// Shows the conflict and reads a number from the terminal.
        private func ask(replica: Replica, settings: ReplicaSettings) async throws -> Int {
            let (view, choices, text) = try await replica.choices(for: conflictID, node: settings.node, schema: settings.schema)
            Output.note("\(view.conflict.collection) \(view.conflict.record.prefix(12)) \"\(view.title ?? "")\", \(Conflicts.what(view)):")
            for (index, choice) in choices.enumerated() {
                Output.note("  \(index + 1). \(choice.label)  by \(choice.version.author)\(choice.isMine ? " (mine)" : "") at \(Output.iso(choice.version.hlc.millis))")
            }
            if text != nil { Output.note("(to combine the versions of the text yourself: casebook resolve \(view.conflict.id.prefix(8)) --edit)") }
            while true {
                FileHandle.standardError.write(Data("keep which value? [1-\(choices.count), q to cancel]: ".utf8))
                guard let line = readLine()?.trimmingCharacters(in: .whitespaces) else { throw ClientError("cancelled: nothing was changed") }
                if line.lowercased() == "q" { throw ClientError("cancelled: nothing was changed") }
                if let number = Int(line), (1...choices.count).contains(number) { return number }
                Output.note("type a number from 1 to \(choices.count), or q")
            }
        }
    }
}
