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
    /// The base a merge uses when the versions share no ancestor (two first writes made offline);
    /// nil: then they are a conflict.
    package let baseWhenUnrelated: FieldValue?
    /// The merge itself.
    package let merge: @Sendable (_ base: FieldValue, _ values: [FieldValue]) -> FieldValue?

    /// A hook named `name`.
    package init(name: String, baseWhenUnrelated: FieldValue? = nil,
                 merge: @escaping @Sendable (_ base: FieldValue, _ values: [FieldValue]) -> FieldValue?) {
        self.name = name
        self.baseWhenUnrelated = baseWhenUnrelated
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

extension MergeHook {
    /// Attached files merge as sets: every file a version added is kept, every file of the base a
    /// version removed goes, the base's others stay in their order and additions follow, in the
    /// order of the versions (largest HLC first) and of their lists. A file added by two versions
    /// under different names keeps the name of the first. Two first attachments made offline merge
    /// too (from an empty base): attaching evidence never conflicts, only more than 1,000 files do.
    package static let files = MergeHook(name: "files", baseWhenUnrelated: .unset) { base, values in
        func refs(_ value: FieldValue) -> [FileRef]? {
            switch value {
            case .files(let files): files
            case .unset: []
            default: nil
            }
        }
        guard let baseRefs = refs(base) else { return nil }
        var lists: [[FileRef]] = []
        for value in values {
            guard let list = refs(value) else { return nil }
            lists.append(list)
        }
        let inBase = Set(baseRefs.map(\.sha256))
        var removed = Set<String>()
        for list in lists { removed.formUnion(inBase.subtracting(list.map(\.sha256))) }
        var merged = baseRefs.filter { !removed.contains($0.sha256) }
        var seen = inBase
        for list in lists {
            for file in list where seen.insert(file.sha256).inserted { merged.append(file) }
        }
        guard merged.count <= Schema.Limits.listItems else { return nil }
        return merged.isEmpty ? .unset : .files(merged)
    }
}

extension FieldType {
    /// The automatic merge of this type's concurrent values, nil for types whose concurrent
    /// different values are always a conflict.
    package var mergeHook: MergeHook? {
        switch self {
        case .longText: .longText
        case .files: .files
        default: nil
        }
    }
}
