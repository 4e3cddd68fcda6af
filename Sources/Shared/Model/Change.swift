import Foundation

/// One edit of one field of one record: the unit that is stored, pushed, pulled and merged.
///
/// A change's identity is its HLC: every change a node makes gets its own tick, so the
/// timestamp (which includes the node id) names it uniquely. Applying a change whose HLC
/// is already known is a no-op.
package struct Change: Hashable, Sendable, Codable {
    /// The reserved field whose value `true` deletes a record (and `false` restores it).
    package static let deletedField = "_deleted"
    /// The reserved field that says who may read the record: a list of groups, or empty or unset
    /// for the whole team (`AccessRule`).
    package static let accessField = "_access"

    /// The collection of the record, e.g. `incidents`.
    package var collection: String
    /// The record id.
    package var record: String
    /// The field name, or `Change.deletedField`.
    package var field: String
    /// The new value.
    package var value: FieldValue
    /// When and where the change was made; also its identity.
    package var hlc: HLC
    /// The user who made it, as the server knows them (the server overwrites what a client claims).
    package var author: String
    /// The version of this field the author last saw (its HLC), or nil for a field the author saw unset and never written.
    package var base: HLC?
    /// Other versions of this field the change supersedes: the rest of a conflict it resolves,
    /// or concurrent versions that held the same value the author saw.
    package var supersedes: [HLC]
    /// For a delete: every version of the record's other fields the author saw when deleting.
    /// An edit not in this list is concurrent with the delete, which makes a conflict.
    package var covers: [HLC]

    /// Creates a change; `supersedes` and `covers` default to empty.
    package init(collection: String, record: String, field: String, value: FieldValue, hlc: HLC,
                 author: String, base: HLC?, supersedes: [HLC] = [], covers: [HLC] = []) {
        self.collection = collection
        self.record = record
        self.field = field
        self.value = value
        self.hlc = hlc
        self.author = author
        self.base = base
        self.supersedes = supersedes
        self.covers = covers
    }

    /// The stable identity of the change.
    package var id: HLC { hlc }

    /// Every version this change builds on: its base and whatever it supersedes.
    package var parents: [HLC] {
        if let base { return [base] + supersedes }
        return supersedes
    }

    /// Whether this change deletes (value true) or restores (false) its record.
    package var isDeletionMarker: Bool { field == Change.deletedField }

    /// Whether the two changes carry the same content (used to refuse a reused identity).
    package func hasSameContent(as other: Change) -> Bool {
        collection == other.collection && record == other.record && field == other.field && value == other.value
            && base == other.base && Set(supersedes) == Set(other.supersedes) && Set(covers) == Set(other.covers)
    }

    private enum CodingKeys: String, CodingKey {
        case collection, record, field, value, hlc, author, base, supersedes, covers
    }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        collection = try c.decode(String.self, forKey: .collection)
        record = try c.decode(String.self, forKey: .record)
        field = try c.decode(String.self, forKey: .field)
        value = try c.decode(FieldValue.self, forKey: .value)
        hlc = try c.decode(HLC.self, forKey: .hlc)
        author = try c.decodeIfPresent(String.self, forKey: .author) ?? ""
        base = try c.decodeIfPresent(HLC.self, forKey: .base)
        supersedes = try c.decodeIfPresent([HLC].self, forKey: .supersedes) ?? []
        covers = try c.decodeIfPresent([HLC].self, forKey: .covers) ?? []
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(collection, forKey: .collection)
        try c.encode(record, forKey: .record)
        try c.encode(field, forKey: .field)
        try c.encode(value, forKey: .value)
        try c.encode(hlc, forKey: .hlc)
        try c.encode(author, forKey: .author)
        try c.encodeIfPresent(base, forKey: .base)
        if !supersedes.isEmpty { try c.encode(supersedes, forKey: .supersedes) }
        if !covers.isEmpty { try c.encode(covers, forKey: .covers) }
    }
}
