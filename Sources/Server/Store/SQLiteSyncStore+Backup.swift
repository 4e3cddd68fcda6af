import Foundation
import GRDB

extension SQLiteSyncStore {
    /// What a backup holds.
    struct BackupSummary: Sendable, Equatable {
        var projects: Int
        var changes: Int
        /// Complete evidence files copied beside the database, and their bytes.
        var files: Int
        var bytes: Int64
    }

    /// Where a backup at `target` keeps the content of its files: `TARGET.files`, laid out as
    /// `DATA/files` (restore it as that folder).
    static func backupFilesFolder(_ target: URL) -> URL {
        target.deletingLastPathComponent().appendingPathComponent(target.lastPathComponent + ".files", isDirectory: true)
    }

    /// Copies the database to `target` with SQLite's online backup (writers go on meanwhile), into
    /// a temporary file first, checked, then renamed: a failed backup leaves nothing behind.
    ///
    /// The complete evidence files the copy lists go to `backupFilesFolder(target)` (hard links
    /// when it is on the same disk, else copies, fsynced), before the database is renamed into
    /// place: a backup whose database is there has all its files. Uploads in progress are left out
    /// (their rows too; a client starts them again after a restore), and so is a file purged
    /// between the copy and its turn (its row too, as if the purge came first); custody logs stay whole.
    func backup(to target: URL) throws -> BackupSummary {
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        let filesTarget = Self.backupFilesFolder(target)
        let partialFiles = filesTarget.deletingLastPathComponent().appendingPathComponent(".\(filesTarget.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        do {
            let copy = try DatabaseQueue(path: partial.path)
            try pool.backup(to: copy)
            let (files, bytes) = try copyFiles(listedIn: copy, to: partialFiles)
            let summary = try copy.read { db in
                guard try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"] else {
                    throw StoreError.unavailable("the backup copy failed its integrity check: try again, and check the disk")
                }
                return BackupSummary(projects: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM project") ?? 0,
                                     changes: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change") ?? 0, files: files, bytes: bytes)
            }
            try copy.close()
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: partial.path)
            if files > 0 { try FileManager.default.moveItem(at: partialFiles, to: filesTarget) }
            try FileManager.default.moveItem(at: partial, to: target)
            return summary
        } catch {
            try? FileManager.default.removeItem(at: partial)
            try? FileManager.default.removeItem(at: partialFiles)
            if let error = error as? StoreError { throw error }
            throw StoreError.unavailable("the backup to \(target.path) failed: \(error.localizedDescription)")
        }
    }

    /// Copies the content of the complete files the database copy lists into `folder`; drops the
    /// rows of uploads in progress and of files gone meanwhile from the copy. Returns the count and bytes.
    private func copyFiles(listedIn copy: DatabaseQueue, to folder: URL) throws -> (Int, Int64) {
        try copy.write { db in try db.execute(sql: "DELETE FROM file WHERE complete = 0") }
        let listed = try copy.read { db in
            try Row.fetchAll(db, sql: "SELECT project.name, file.sha256, file.size, file.project_id FROM file JOIN project ON project.id = file.project_id ORDER BY 1, 2")
                .map { (project: $0[0] as String, sha256: $0[1] as String, size: $0[2] as Int64, projectID: $0[3] as Int64) }
        }
        guard !listed.isEmpty else { return (0, 0) }
        let into = FileFolder(root: folder)
        var count = 0, bytes: Int64 = 0
        for file in listed {
            if try files.copy(files.complete(file.project, file.sha256), to: into.complete(file.project, file.sha256)) {
                count += 1
                bytes += file.size
            } else {
                try copy.write { db in
                    try db.execute(sql: "DELETE FROM file WHERE project_id = ? AND sha256 = ?", arguments: [file.projectID, file.sha256])
                }
            }
        }
        try into.syncFolders(listed.map(\.project))
        return (count, bytes)
    }
}
