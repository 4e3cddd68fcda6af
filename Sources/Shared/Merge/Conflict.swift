import Foundation

/// An open conflict: one field of one record holding more than one value, waiting for a person.
package struct Conflict: Hashable, Sendable, Codable {
    /// Deterministic id: the same on every replica, and new whenever the set of values changes,
    /// so a resolution always names exactly the values its author saw.
    package var id: String
    /// The record's collection.
    package var collection: String
    /// The record id.
    package var record: String
    /// The field, or `_deleted` for a delete-versus-edit conflict.
    package var field: String
    /// Every competing version, provisional winner first.
    package var versions: [Version]

    /// A conflict over `versions` (in any order).
    package init(collection: String, record: String, field: String, versions: [Version]) {
        let sorted = versions.sorted { $0.hlc > $1.hlc }
        self.id = Conflict.makeID(record: record, field: field, versions: sorted.map(\.hlc))
        self.collection = collection
        self.record = record
        self.field = field
        self.versions = sorted
    }

    /// The conflict of a field state, if it has one.
    package init?(collection: String, record: String, field: String, state: FieldState) {
        guard state.isConflicted else { return nil }
        self.init(collection: collection, record: record, field: field, versions: state.heads)
    }

    /// The conflict of a record's delete status, if it has one.
    package init?(collection: String, record: String, status: RecordStatus) {
        guard case .deleteConflict(let deletions, let edits) = status else { return nil }
        self.init(collection: collection, record: record, field: Change.deletedField, versions: deletions + edits)
    }

    /// The id for a set of competing versions: 16 hex digits of a 64-bit FNV-1a hash.
    package static func makeID(record: String, field: String, versions: [HLC]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let text = ([record, field] + versions.map(\.text).sorted()).joined(separator: "\u{1F}")
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Hex.pad(hash, width: 16)
    }
}
