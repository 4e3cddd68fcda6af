import Foundation

/// An automatic merge for the values of one field type: from the value the concurrent versions
/// started from (their merge base) and their values, the value that keeps every version's change,
/// or nil when they change the same part differently (then the field is in conflict, as without a
/// hook, and a person decides).
///
/// A hook is a pure function: the merge rule calls it on every replica and on the server with the
/// same arguments and must get the same answer. `values` holds each distinct value once, in the
/// order of their versions' HLCs (largest first); a hook may depend on that order but need not.
/// `base` is `.unset` when the versions started from a field never written.
///
/// To give a field type a merge, add a hook here and return it from `FieldType.mergeHook`; the
/// rest (finding the base, convergence, conflicts, what edits build on) is the same for every type.
package struct MergeHook: Sendable {
    /// A name for messages and documentation.
    package let name: String
    /// The merge itself.
    package let merge: @Sendable (_ base: FieldValue, _ values: [FieldValue]) -> FieldValue?

    /// A hook named `name`.
    package init(name: String, merge: @escaping @Sendable (_ base: FieldValue, _ values: [FieldValue]) -> FieldValue?) {
        self.name = name
        self.merge = merge
    }

    /// Long text: `TextMerge` (by line, then by sentence within lines both versions changed).
    /// An unset value counts as empty text, and an empty result is unset.
    package static let longText = MergeHook(name: "text") { base, values in
        func text(_ value: FieldValue) -> String? {
            switch value {
            case .text(let text): text
            case .unset: ""
            default: nil
            }
        }
        guard let baseText = text(base) else { return nil }
        var texts: [String] = []
        for value in values {
            guard let text = text(value) else { return nil }
            texts.append(text)
        }
        guard let merged = TextMerge.merge(base: baseText, versions: texts) else { return nil }
        return merged.isEmpty ? .unset : .text(merged)
    }
}

extension FieldType {
    /// The automatic merge of this type's concurrent values, nil for types whose concurrent
    /// different values are always a conflict.
    package var mergeHook: MergeHook? {
        switch self {
        case .longText: .longText
        default: nil
        }
    }
}
