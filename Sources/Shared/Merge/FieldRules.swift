import Foundation

/// What a collection's schema says about merging its fields: which fields merge concurrent values
/// automatically (`MergeHook`, by field type) and which fields form groups (`FieldGroup`).
///
/// Server and replicas hold the same schema for a project, so they derive the same rules. Without
/// a schema (`none`) every field follows the plain merge rule.
package struct FieldRules: Sendable {
    /// No hooks and no groups: the plain merge rule.
    package static let none = FieldRules(nil)

    private let hooks: [String: MergeHook]
    /// The collection's field groups.
    package let groups: [FieldGroup]

    /// The rules of `collection` (none for nil).
    package init(_ collection: CollectionSchema?) {
        var hooks: [String: MergeHook] = [:]
        // A sealed value cannot be merged by its content: concurrent edits of a sensitive field are a conflict.
        for field in collection?.fields ?? [] where collection?.group(of: field.name) == nil && !field.sensitive {
            if let hook = field.type.mergeHook { hooks[field.name] = hook }
        }
        self.hooks = hooks
        groups = collection?.groups ?? []
    }

    /// The rules of `collection` in `schema` (none when the schema lacks it).
    package init(_ schema: Schema?, collection: String) {
        self.init(schema?.collection(collection))
    }

    /// The automatic merge of a field, nil for a field that has none (or is in a group, or sensitive).
    package func hook(for field: String) -> MergeHook? { hooks.isEmpty ? nil : hooks[field] }

    /// Whether any field of the collection merges automatically.
    package var hasHooks: Bool { !hooks.isEmpty }

    /// The group a field belongs to, if any.
    package func group(of field: String) -> FieldGroup? {
        groups.isEmpty ? nil : groups.first { $0.fields.contains(field) }
    }

    /// The name a conflict of `field` goes by: its group's, or its own.
    package func conflictName(of field: String) -> String { group(of: field)?.name ?? field }
}
