import Foundation
import GRDB
import Shared

/// A conflict of a text field as a person works on it: the base the versions diverged from, the
/// versions, and where they differ.
struct TextConflict: Sendable {
    /// The text the versions diverged from; empty when the replica cannot tell (`baseKnown` false).
    var base: String
    var baseKnown: Bool
    /// Each version's text, in the conflict's order (provisional winner first).
    var versions: [String]

    /// The merge as pieces: merged text, and the lines where versions disagree.
    var pieces: [TextMerge.Piece] { TextMerge.pieces(base: base, versions: versions) }

    /// The conflict of a text field (not of a group or a delete), with its base from the replica's history.
    /// A sensitive field's versions and base are opened with `reader`; nil when one of them stays sealed
    /// (this replica does not hold the key it was sealed with).
    static func of(_ view: ConflictView, _ db: Database, reader: SealedReader) throws -> TextConflict? {
        guard view.group == nil, view.conflict.field != Change.deletedField else { return nil }
        let conflict = view.conflict
        let open = { (value: FieldValue) in reader.open(value, collection: conflict.collection, record: conflict.record, field: conflict.field) }
        var texts: [String] = []
        for version in conflict.versions {
            guard let text = Self.text(open(version.value)) else { return nil }
            texts.append(text)
        }
        var base: String?
        if let key = try Replica.recordKey(conflict.record, db) {
            let graph = try Replica.fieldHistory(key: key, field: conflict.field, db)
            var merge = FieldMerge(hook: .longText)
            if case .merged(let value) = merge.base(of: conflict.versions.map(\.hlc), graph: graph) {
                // A base sealed with a key this replica lacks (from before a rotation) cannot be shown either.
                guard let text = Self.text(open(value)) else { return nil }
                base = text
            }
        }
        return TextConflict(base: base ?? "", baseKnown: base != nil, versions: texts)
    }

    /// A value as text: unset is empty; nil for any other kind, or a value still sealed.
    private static func text(_ value: FieldValue) -> String? {
        switch value {
        case .text(let text): value.isSealed ? nil : text
        case .unset: ""
        default: nil
        }
    }
}
