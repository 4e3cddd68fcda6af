import Foundation
import Shared

extension Casebook.Resolve {
    /// A text a person finished in their editor, for the conflict it was made from.
    struct EditedText: Sendable {
        let conflict: String
        let value: FieldValue
    }

    /// Opens the conflict's text with markers in the editor and returns what the person saved;
    /// refuses (changing nothing) a text that still holds a marker.
    func editedText(replica: Replica, settings: ReplicaSettings) async throws -> EditedText {
        let (view, choices, found) = try await replica.choices(for: conflictID, node: settings.node, schema: settings.schema)
        guard let text = found, view.type == .longText || view.type == .text else {
            // A sensitive text whose versions or base stay sealed: this replica lacks the key they were sealed with.
            let conflict = view.conflict
            if view.type == .longText || view.type == .text, settings.schema.collection(conflict.collection)?.field(conflict.field)?.sensitive == true {
                let holders = try await replica.read { db in try ProjectKeyRing.load(db).server?.current?.holders ?? [] }
                throw ProjectKeyRing.notGranted(field: conflict.field, collection: conflict.collection, user: settings.user, holders: holders)
            }
            throw ClientError("--edit is for conflicts of text fields; this one is about \(Casebook.Conflicts.what(view)): use --pick N (see 'casebook conflicts')")
        }
        let labels = choices.enumerated().map { index, choice in
            "\(index + 1): \(choice.version.author)\(choice.isMine ? " (mine)" : ""), \(Output.iso(choice.version.hlc.millis))"
        }
        let marked = TextMerge.marked(base: text.base, versions: text.versions, labels: labels)
        if !text.baseKnown {
            Output.note("the text the versions started from is not on this replica ('casebook sync' fetches it): each version is shown whole")
        }
        var edited = try TextEditor.edit(marked.text, fileName: "\(view.conflict.field)-\(view.conflict.id.prefix(8)).txt")
        if let line = TextMerge.markerLine(in: edited, known: [text.base] + text.versions) {
            throw ClientError("the text still has a conflict marker at line \(line): nothing was published, and the conflict stays open; "
                              + "run 'casebook resolve \(view.conflict.id.prefix(8)) --edit' again and remove every <<<<<<<, |||||||, ======= and >>>>>>> line")
        }
        // Editors end a file with a line break; keep the texts' own ending when none of them had one.
        if !([text.base] + text.versions).contains(where: { $0.hasSuffix("\n") }) {
            while edited.hasSuffix("\n") { edited.removeLast() }
        }
        return EditedText(conflict: view.conflict.id, value: edited.isEmpty ? .unset : .text(edited))
    }
}
