import Foundation

/// What replacing a project's schema with a new version changes, and what of it the stored data
/// must be checked for (docs/protocol.md, "Schema versions").
///
/// A new version may add (collections, fields, vocabularies, terms, aliases), relabel, describe,
/// retire (`deprecated`) and rename through an alias; it may not change what a stored value means:
/// a field's type, vocabulary or referenced collection, a field group, or remove a collection, a
/// field, a vocabulary. Two steps depend on the data: a field made required (refused while live
/// records lack it) and a term removed (refused while records use it; retire it instead).
package struct SchemaEvolution: Sendable, Equatable {
    /// One difference between the versions, as people read it.
    package enum Step: Sendable, Equatable, CustomStringConvertible {
        case addedCollection(String)
        case addedField(collection: String, field: String)
        case addedVocabulary(String)
        case addedTerm(vocabulary: String, term: String)
        case relabelledTerm(vocabulary: String, term: String, label: String)
        case changedAliases(String)
        case changedDescription(String)
        case deprecatedField(collection: String, field: String)
        case deprecatedTerm(vocabulary: String, term: String)
        case restoredField(collection: String, field: String)
        case restoredTerm(vocabulary: String, term: String)
        /// Checked against the data: live records of the collection without a value.
        case madeRequired(collection: String, field: String)
        /// Checked against the data: live records whose value uses the term.
        case removedTerm(vocabulary: String, term: String)
        case changedTitleField(collection: String, field: String)
        case changedReport

        package var description: String {
            switch self {
            case .addedCollection(let c): "new collection \(c)"
            case .addedField(let c, let f): "new field \(c).\(f)"
            case .addedVocabulary(let v): "new vocabulary \(v)"
            case .addedTerm(let v, let t): "new term \(v).\(t)"
            case .relabelledTerm(let v, let t, let label): "term \(v).\(t) now reads '\(label)'"
            case .changedAliases(let what): "aliases of \(what) changed"
            case .changedDescription(let what): "description of \(what) changed"
            case .deprecatedField(let c, let f): "field \(c).\(f) retired (kept for its values, takes no new ones)"
            case .deprecatedTerm(let v, let t): "term \(v).\(t) retired (kept for its values, refused for new ones)"
            case .restoredField(let c, let f): "field \(c).\(f) in use again"
            case .restoredTerm(let v, let t): "term \(v).\(t) in use again"
            case .madeRequired(let c, let f): "field \(c).\(f) now required"
            case .removedTerm(let v, let t): "term \(v).\(t) removed"
            case .changedTitleField(let c, let f): "collection \(c) now named by \(f)"
            case .changedReport: "report roles changed"
            }
        }
    }

    /// The differences, in schema order.
    package var steps: [Step] = []
    /// What makes the new version unacceptable whatever the data, each a sentence saying what to do.
    package var problems: [String] = []

    /// The differences from `old` to `new` (both already `check()`ed).
    package init(from old: Schema, to new: Schema) {
        if new.name != old.name {
            problems.append("the schema is named '\(new.name)', the project's is '\(old.name)': a project keeps its schema's name")
        }
        if new.version <= old.version {
            problems.append("the new schema's version is \(new.version), not above the project's \(old.version): raise \"version\" in the file")
        }
        compareVocabularies(old, new)
        for collection in old.collections where new.collection(collection.name) == nil {
            problems.append("collection \(collection.name) is missing: a collection is never removed (its records stay); put it back")
        }
        for collection in new.collections {
            guard let before = old.collection(collection.name) else {
                steps.append(.addedCollection(collection.name))
                continue
            }
            compareCollection(before, collection)
        }
        if new.report != old.report { steps.append(.changedReport) }
    }

    /// Whether nothing differs.
    package var isEmpty: Bool { steps.isEmpty && problems.isEmpty }

    private mutating func compareVocabularies(_ old: Schema, _ new: Schema) {
        for vocabulary in old.vocabularies where new.vocabulary(vocabulary.name) == nil {
            problems.append("vocabulary \(vocabulary.name) is missing: a vocabulary is never removed; put it back and retire its terms (\"deprecated\": true) instead")
        }
        for vocabulary in new.vocabularies {
            guard let before = old.vocabulary(vocabulary.name) else {
                steps.append(.addedVocabulary(vocabulary.name))
                continue
            }
            for term in before.terms where !vocabulary.contains(term.id) {
                steps.append(.removedTerm(vocabulary: vocabulary.name, term: term.id))
            }
            for term in vocabulary.terms {
                guard let old = before.terms.first(where: { $0.id == term.id }) else {
                    steps.append(.addedTerm(vocabulary: vocabulary.name, term: term.id))
                    continue
                }
                if old.label != term.label { steps.append(.relabelledTerm(vocabulary: vocabulary.name, term: term.id, label: term.label)) }
                if old.aliases != term.aliases { steps.append(.changedAliases("term \(vocabulary.name).\(term.id)")) }
                if !old.deprecated && term.deprecated { steps.append(.deprecatedTerm(vocabulary: vocabulary.name, term: term.id)) }
                if old.deprecated && !term.deprecated { steps.append(.restoredTerm(vocabulary: vocabulary.name, term: term.id)) }
            }
        }
    }

    private mutating func compareCollection(_ old: CollectionSchema, _ new: CollectionSchema) {
        let name = new.name
        for field in old.fields where new.field(field.name) == nil {
            problems.append("field \(name).\(field.name) is missing: a field is never removed (its values stay in history); put it back with \"deprecated\": true to retire it")
        }
        for field in new.fields {
            guard let before = old.field(field.name) else {
                steps.append(.addedField(collection: name, field: field.name))
                if field.required {
                    steps.append(.madeRequired(collection: name, field: field.name))
                }
                continue
            }
            compareField(before, field, in: name)
        }
        if old.titleField != new.titleField { steps.append(.changedTitleField(collection: name, field: new.titleField)) }
        // A group decides what conflicts together: changing an existing one would change the meaning
        // of edits already in flight. A new group of new fields only is fine.
        for group in old.groups where !new.groups.contains(group) {
            problems.append("field group \(group.name) of \(name) changed or is missing: a group is never changed once in use")
        }
        for group in new.groups where !old.groups.contains(group) {
            if group.fields.contains(where: { old.field($0) != nil }) {
                problems.append("new field group \(group.name) of \(name) takes fields that already hold values: a group may only gather new fields")
            }
        }
    }

    private mutating func compareField(_ old: FieldSchema, _ new: FieldSchema, in collection: String) {
        let name = "\(collection).\(new.name)"
        if old.type != new.type {
            problems.append("field \(name) changes type from \(old.type.rawValue) to \(new.type.rawValue): stored values would no longer read; add a new field instead")
        }
        if old.vocabulary != new.vocabulary {
            problems.append("field \(name) changes vocabulary from \(old.vocabulary ?? "none") to \(new.vocabulary ?? "none"): add a new field instead")
        }
        if old.collection != new.collection {
            problems.append("field \(name) changes the collection it refers to: add a new field instead")
        }
        if old.sensitive != new.sensitive {
            problems.append("field \(name) \(new.sensitive ? "becomes" : "stops being") sensitive: its stored values are \(old.sensitive ? "" : "not ")sealed; add a new field instead")
        }
        if !old.required && new.required { steps.append(.madeRequired(collection: collection, field: new.name)) }
        if old.aliases != new.aliases { steps.append(.changedAliases("field \(name)")) }
        if old.description != new.description { steps.append(.changedDescription("field \(name)")) }
        if !old.deprecated && new.deprecated { steps.append(.deprecatedField(collection: collection, field: new.name)) }
        if old.deprecated && !new.deprecated { steps.append(.restoredField(collection: collection, field: new.name)) }
    }

    /// The steps the stored data must be checked for.
    package var dataChecks: [Step] {
        steps.filter {
            switch $0 {
            case .madeRequired, .removedTerm: true
            default: false
            }
        }
    }
}
