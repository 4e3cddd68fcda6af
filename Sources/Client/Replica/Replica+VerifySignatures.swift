import Foundation
import GRDB
import Shared

extension Replica {
    /// What the signature check of `verify` found.
    struct SignatureReport: Sendable {
        /// Changes whose signature holds.
        var signed = 0
        /// Changes stored before the project's changes were signed (up to the pinned end of its unsigned history).
        var unsignedBefore = 0
        var failures: [(what: String, id: String, reason: String)] = []
    }

    /// Checks every stored change's signature offline, with the devices and batches the replica
    /// holds: its digest must be in a batch whose signature holds under the key of a device of the
    /// change's author. Changes up to the pinned end of the unsigned history count as unsigned
    /// (before signatures); a replica that never synced with a signing server has only such changes.
    static func verifySignatures(_ db: Database) throws -> SignatureReport {
        var report = SignatureReport()
        guard let project = try Setting.get(.project, db) else { return report }
        let pinned = try Setting.get(.unsignedUpTo, db).flatMap { Int64($0) }
        var check = SignatureCheck(project: project, devices: try knownDevices(db))
        for problem in check.add(try storedBatches(db)) where report.failures.count < 100 {
            report.failures.append(("batch", "", problem))
        }
        let rows = try Row.fetchCursor(db, sql: """
            SELECT record.id, change.collection, change.field, change.value, change.hlc, change.author, change.base,
                   change.supersedes, change.covers, change.seq
            FROM change JOIN record ON record.key = change.record_key
            """)
        while let row = try rows.next() {
            let record: String = row[0], field: String = row[2], hlcText: String = row[4]
            guard let change = try? storedChange(row) else { continue }  // reported by the decode check
            switch check.signer(of: change) {
            case .success:
                report.signed += 1
            case .failure(let unsigned):
                let seq: Int64? = row[9]
                if pinned == nil || (seq ?? Int64.max) <= (pinned ?? 0) {
                    report.unsignedBefore += 1
                } else if report.failures.count < 100 {
                    report.failures.append(("signature", "\(record) \(field) (\(hlcText))",
                                            "the change of record \(record), field \(field) does not hold its signature: \(unsigned.reason)"))
                }
            }
        }
        return report
    }

    /// A change from a row whose first nine columns are record id, collection, field, value, hlc, author, base, supersedes, covers.
    static func storedChange(_ row: Row) throws -> Change {
        let base: String? = row[6], supersedes: String? = row[7], covers: String? = row[8]
        return Change(collection: row[1], record: row[0], field: row[2], value: try StorageText.decodeValue(row[3]),
                      hlc: try StorageText.decodeHLC(row[4]), author: row[5], base: try base.map(StorageText.decodeHLC),
                      supersedes: try supersedes.map(StorageText.decodeHLCs) ?? [], covers: try covers.map(StorageText.decodeHLCs) ?? [])
    }
}
