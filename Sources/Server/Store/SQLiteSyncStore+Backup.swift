import Foundation
import GRDB

extension SQLiteSyncStore {
    /// Copies the database to `target` with SQLite's online backup (writers go on meanwhile), into
    /// a temporary file first, checked, then renamed: a failed backup leaves nothing behind.
    func backup(to target: URL) throws -> (projects: Int, changes: Int) {
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        do {
            let copy = try DatabaseQueue(path: partial.path)
            try pool.backup(to: copy)
            let summary = try copy.read { db in
                guard try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"] else {
                    throw StoreError.unavailable("the backup copy failed its integrity check: try again, and check the disk")
                }
                return (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM project") ?? 0, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change") ?? 0)
            }
            try copy.close()
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: partial.path)
            try FileManager.default.moveItem(at: partial, to: target)
            return summary
        } catch {
            try? FileManager.default.removeItem(at: partial)
            if let error = error as? StoreError { throw error }
            throw StoreError.unavailable("the backup to \(target.path) failed: \(error.localizedDescription)")
        }
    }
}
