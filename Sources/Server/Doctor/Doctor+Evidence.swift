import Foundation
import GRDB

// The evidence files of the embedded store: every complete file the database lists is in the data
// folder at its size (cheap: one stat each), and with `verifyFiles` hashes to its name (reads them all).
extension Doctor {
    static func checkEvidenceFiles(folder: URL, verify: Bool, timeout: Duration = .seconds(5)) -> [DoctorFinding] {
        let path = folder.appendingPathComponent("casebook.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(TimeInterval(timeout.components.seconds))
        let listed: [(project: String, sha256: String, size: Int64)]
        let partial: (count: Int, bytes: Int64)
        do {
            let database = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? database.close() }
            (listed, partial) = try database.read { db in
                guard try db.tableExists("file") else { return ([], (0, 0)) }
                let listed = try Row.fetchAll(db, sql: "SELECT project.name, file.sha256, file.size FROM file JOIN project ON project.id = file.project_id WHERE file.complete = 1 ORDER BY 1, 2")
                    .map { (project: $0[0] as String, sha256: $0[1] as String, size: $0[2] as Int64) }
                let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(received), 0) FROM file WHERE complete = 0")
                return (listed, (row?[0] ?? 0, row?[1] ?? 0))
            }
        } catch {
            return [DoctorFinding(.failed, "evidence files", "cannot read the list of files in \(path): \(error)")]
        }
        guard !listed.isEmpty || partial.count > 0 else { return [] }
        let files = FileFolder(root: folder.appendingPathComponent("files", isDirectory: true))
        var damaged: [String] = []
        for file in listed {
            let path = files.complete(file.project, file.sha256)
            guard let length = files.length(path) else {
                damaged.append("\(file.sha256) of \(file.project) is missing")
                continue
            }
            if length != file.size {
                damaged.append("\(file.sha256) of \(file.project) has \(length) bytes instead of \(file.size)")
            } else if verify, (try? files.hash(path, length: file.size))?.hex() != file.sha256 {
                damaged.append("\(file.sha256) of \(file.project) does not hash to its name")
            }
        }
        let total = listed.reduce(Int64(0)) { $0 + $1.size }
        let summary = "\(listed.count) complete file(s), \(FileUsage.describe(total)); \(partial.count) upload(s) in progress, \(FileUsage.describe(partial.bytes))"
        guard damaged.isEmpty else {
            let shown = damaged.prefix(10).joined(separator: "; ") + (damaged.count > 10 ? "; and \(damaged.count - 10) more" : "")
            return [DoctorFinding(.failed, "evidence files", "\(damaged.count) of \(summary.replacingOccurrences(of: " complete", with: "")) are missing or damaged: \(shown). Restore them from a backup (its FILE.files folder) into \(files.root.path), or ask whoever holds them on a replica to upload them again after a files purge")]
        }
        let hashes = verify ? "every hash checked" : "sizes checked (--verify-files re-reads and hashes them)"
        return [DoctorFinding(.ok, "evidence files", "\(summary): \(hashes)")]
    }
}
