import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Resolve: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle a conflict: keep one of its values, or write a new one.",
            discussion: "The resolution is a change like any other: the next sync publishes it, and the conflict is gone everywhere once replicas sync. On a terminal, without a choice, it asks.")

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

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws {
            let chosen = [mine, theirs, pick != nil, value != nil].filter { $0 }.count
            guard chosen <= 1 else { throw ValidationError("choose one of --mine, --theirs, --pick N, --value VALUE") }
            if chosen == 0 && isatty(STDIN_FILENO) != 1 {
                throw ValidationError("choose one of --mine, --theirs, --pick N, --value VALUE (or run it on a terminal to be asked)")
            }
            if let pick, pick < 1 { throw ValidationError("--pick counts from 1") }
        }

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let asked = !mine && !theirs && pick == nil && value == nil
            let pickNumber = asked ? try await ask(replica: replica, settings: settings) : pick
            let (command, conflictID) = (self, self.conflictID)
            let resolved = try await replica.edit(settings: settings) { editor in
                let (view, choices) = try editor.conflict(conflictID)
                let chosen = try command.choose(view: view, choices: choices, pick: pickNumber, editor: editor)
                try editor.resolve(view.conflict, with: chosen)
                return view
            }
            Output.line("resolved \(resolved.conflict.id) (\(resolved.conflict.collection) \(resolved.conflict.record.prefix(12)) \(resolved.conflict.field)); 'casebook sync' publishes it")
        }

        /// The value the resolution writes.
        private func choose(view: ConflictView, choices: [ConflictChoice], pick: Int?, editor: LocalEditor) throws -> FieldValue {
            let isDeletion = view.conflict.field == Change.deletedField
            func resolution(_ choice: ConflictChoice) -> FieldValue {
                isDeletion ? .bool(choice.version.value == .bool(true)) : choice.version.value
            }
            if let pick {
                guard pick <= choices.count else {
                    throw ClientError("conflict \(view.conflict.id) has \(choices.count) values: pick 1 to \(choices.count)")
                }
                return resolution(choices[pick - 1])
            }
            if mine {
                guard let choice = choices.first(where: \.isMine) else {
                    throw ClientError("no value of this conflict was written on this replica: use --pick N (see 'casebook conflicts')")
                }
                return resolution(choice)
            }
            if theirs {
                let others = choices.filter { !$0.isMine }
                guard let first = others.first else { throw ClientError("every value of this conflict was written here: use --pick N") }
                guard others.allSatisfy({ resolution($0) == resolution(first) }) else {
                    throw ClientError("several other people's values compete here: choose one with --pick N (see 'casebook conflicts')")
                }
                return resolution(first)
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

        /// Shows the conflict and reads a number from the terminal.
        private func ask(replica: Replica, settings: ReplicaSettings) async throws -> Int {
            let (view, choices) = try await replica.choices(for: conflictID, node: settings.node)
            Output.note("\(view.conflict.collection) \(view.conflict.record.prefix(12)) \"\(view.title ?? "")\", field \(view.conflict.field):")
            for (index, choice) in choices.enumerated() {
                Output.note("  \(index + 1). \(choice.label)  by \(choice.version.author)\(choice.isMine ? " (mine)" : "") at \(Output.iso(choice.version.hlc.millis))")
            }
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
