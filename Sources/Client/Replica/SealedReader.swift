import Foundation
import GRDB
import Shared

/// Opens the sealed values of sensitive fields as reads show them. The replica stores them sealed,
/// exactly as the server does; a value sealed with a key this replica does not hold stays as its
/// envelope, which every output shows as `(sealed)` (`FieldValue.isSealed`).
struct SealedReader {
    let project: String
    /// Sensitive fields by collection; empty when the schema has none (then nothing is opened).
    let sensitive: [String: Set<String>]
    let ring: ProjectKeyRing

    /// The reader of this replica's project and keys.
    static func load(_ db: Database, schema: Schema? = nil) throws -> SealedReader {
        let schema = try schema ?? Setting.get(.schema, db).flatMap { try? Schema.fromJSON(Data($0.utf8)) }
        var sensitive: [String: Set<String>] = [:]
        for collection in schema?.collections ?? [] {
            let fields = collection.fields.filter(\.sensitive).map(\.name)
            if !fields.isEmpty { sensitive[collection.name] = Set(fields) }
        }
        return SealedReader(project: try Setting.get(.project, db) ?? "", sensitive: sensitive,
                            ring: sensitive.isEmpty ? ProjectKeyRing.empty : try ProjectKeyRing.load(db))
    }

    func isSensitive(_ collection: String, _ field: String) -> Bool {
        sensitive[collection]?.contains(field) ?? false
    }

    /// A value as it reads: opened when it is a sealed value this replica can open, else unchanged.
    func open(_ value: FieldValue, collection: String, record: String, field: String) -> FieldValue {
        guard isSensitive(collection, field), case .text(let text) = value, let sealed = SealedValue(text: text) else { return value }
        return ring.open(sealed, place: SealedValue.Place(project: project, collection: collection, record: record, field: field)) ?? value
    }

    func open(_ view: RecordView) -> RecordView {
        guard let fields = sensitive[view.collection] else { return view }
        var opened = view
        for field in fields {
            if let value = view.fields[field] { opened.fields[field] = open(value, collection: view.collection, record: view.id, field: field) }
        }
        return opened
    }

    func open(_ entries: [LogEntry], of ref: RecordRef) -> [LogEntry] {
        guard sensitive[ref.collection] != nil else { return entries }
        return entries.map { entry in
            var opened = entry
            opened.value = open(entry.value, collection: ref.collection, record: ref.id, field: entry.field)
            return opened
        }
    }

    /// A conflict and its choices with their values opened (labels follow).
    func open(_ view: ConflictView, _ choices: [ConflictChoice]) -> (ConflictView, [ConflictChoice]) {
        let conflict = view.conflict
        guard sensitive[conflict.collection] != nil else { return (view, choices) }
        var openedView = view
        openedView.current = open(view.current, collection: conflict.collection, record: conflict.record, field: conflict.field)
        let opened = choices.map { choice in
            var opened = choice
            opened.value = open(choice.value, collection: conflict.collection, record: conflict.record, field: conflict.field)
            if opened.value != choice.value || opened.value.isSealed { opened.label = opened.value.shownText }
            opened.fields = choice.fields?.reduce(into: [String: FieldValue]()) { result, member in
                result[member.key] = open(member.value, collection: conflict.collection, record: conflict.record, field: member.key)
            }
            return opened
        }
        return (openedView, opened)
    }
}

extension FieldValue {
    /// Whether the value is a sealed value this replica could not open.
    var isSealed: Bool {
        if case .text(let text) = self { return text.hasPrefix(SealedValue.prefix) && SealedValue(text: text) != nil }
        return false
    }

    /// The value as a person reads it: `(sealed)` for a value this replica cannot open.
    var shownText: String { isSealed ? "(sealed)" : displayText }
}
