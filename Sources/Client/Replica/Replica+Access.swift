import Foundation
import GRDB
import Shared

/// Need-to-know on the replica: a record's access (the reserved field `_access`, `AccessRule`).
extension Replica {
    /// The fields that are not values of a record: deletion and access.
    static let reservedFields: Set<String> = [Change.deletedField, Change.accessField]

    /// The groups a record is restricted to (empty: the whole team), with this replica's pending
    /// edit on top. Several concurrent access values give every group they name: the record is
    /// readable only by whoever all of them let read it, and `conflicts` lists them.
    static func access(record: String, _ db: Database) throws -> [String] {
        if let pending = try OutboxEntry.all(record: record, db).last(where: { $0.field == Change.accessField }) {
            return AccessRule.groups(pending.value)
        }
        let heads = try acceptedHeads(record: record, field: Change.accessField, db)
        return AccessRule.groupsNamed(by: AccessRule.accessClass(heads.map(\.value))).sorted()
    }

    /// A record's access (by full id or unique prefix).
    func access(_ typed: String) async throws -> [String] {
        try await read { db in try Self.access(record: try RecordRef.find(typed, db).id, db) }
    }
}
