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
    static func of(_ view: ConflictView, _ db: Database) throws -> TextConflict? {
        guard view.group == nil, view.conflict.field != Change.deletedField else { return nil }
        var texts: [String] = []
        for version in view.conflict.versions {
            switch version.value {
            case .text(let text): texts.append(text)
            case .unset: texts.append("")
            default: return nil
            }
        }
        var base: String?
        if let key = try Replica.recordKey(view.conflict.record, db) {
            let graph = try Replica.fieldHistory(key: key, field: view.conflict.field, db)
            var merge = FieldMerge(hook: .longText)
            if case .merged(let value) = merge.base(of: view.conflict.versions.map(\.hlc), graph: graph) {
                if case .text(let text) = value { base = text } else if value.isUnset { base = "" }
            }
        }
        return TextConflict(base: base ?? "", baseKnown: base != nil, versions: texts)
    }
}
