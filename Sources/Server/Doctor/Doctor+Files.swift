import Foundation

// The data folder, the store's files in it, and the disk they are on.
extension Doctor {
    /// The store's files in a data folder: the database and SQLite's WAL and shared-memory files.
    static let storeFiles = ["casebook.sqlite", "casebook.sqlite-wal", "casebook.sqlite-shm"]

    /// The folder exists, this user can write it, others cannot read it, and the store's files
    /// belong to the folder's owner (an admin command run as root would leave files the service cannot write).
    static func checkDataFolder(_ folder: URL) -> [DoctorFinding] {
        let path = folder.path
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT {
                return [DoctorFinding(.failed, "data folder", "\(path) does not exist: create it (install -d -m 700 -o casebook -g casebook \(path)), or name the right one with --data or CASEBOOK_DATA")]
            }
            return [DoctorFinding(.failed, "data folder", "cannot look at \(path): \(String(cString: strerror(errno)))")]
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            return [DoctorFinding(.failed, "data folder", "\(path) is not a folder: name the data folder with --data or CASEBOOK_DATA")]
        }
        let owner = userName(info.st_uid)
        let mode = info.st_mode & 0o777
        var findings: [DoctorFinding] = []
        if access(path, W_OK | X_OK) != 0 {
            findings.append(DoctorFinding(.failed, "data folder", "\(userName(geteuid())) cannot write \(path) (owned by \(owner)): run doctor as the user that runs serve (sudo -u \(owner) casebook-server doctor ...), or give that user the folder (chown)"))
        }
        if mode & 0o002 != 0 {
            findings.append(DoctorFinding(.failed, "data folder", "every user can write \(path) (mode \(octal(mode))): chmod 700 \(path)"))
        } else if mode & 0o007 != 0 {
            findings.append(DoctorFinding(.warning, "data folder", "every user of this machine can look into \(path) (mode \(octal(mode))): chmod 700 \(path)"))
        }
        findings += checkStoreFiles(in: folder, owner: info.st_uid)
        if findings.isEmpty {
            findings.append(DoctorFinding(.ok, "data folder", "\(path): owned by \(owner), mode \(octal(mode))"))
        }
        return findings
    }

    private static func checkStoreFiles(in folder: URL, owner: uid_t) -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        for name in storeFiles {
            let path = folder.appendingPathComponent(name).path
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            if info.st_uid != owner {
                findings.append(DoctorFinding(.failed, "data folder", "\(path) belongs to \(userName(info.st_uid)) but the folder to \(userName(owner)): serve, running as \(userName(owner)), cannot write it (a command run as another user made it): chown \(userName(owner)) \(path)"))
            }
            if info.st_mode & 0o007 != 0 {
                findings.append(DoctorFinding(.failed, "data folder", "every user can read \(path) (mode \(octal(info.st_mode & 0o777))): it holds every record and the token hashes: chmod 600 \(path)"))
            }
        }
        return findings
    }

    /// Free space where the data folder is (or would be).
    static func checkDiskSpace(at folder: URL) -> [DoctorFinding] {
        var url = folder
        var info = statvfs()
        while statvfs(url.path, &info) != 0 {
            guard url.path != "/" else { return [DoctorFinding(.note, "disk space", "cannot read the free space for \(folder.path)")] }
            url = url.deletingLastPathComponent()
        }
        let unit = UInt64(info.f_frsize)
        return [diskSpace(free: UInt64(info.f_bavail) * unit, total: UInt64(info.f_blocks) * unit, path: url.path)]
    }

    /// Fails below 256 MiB free (a push may then fail half-way and be retried in vain); warns below 1 GiB or 10 %.
    static func diskSpace(free: UInt64, total: UInt64, path: String) -> DoctorFinding {
        let percent = total == 0 ? 0 : Int(free * 100 / total)
        let text = "\(bytes(free)) free of \(bytes(total)) (\(percent) %) on the disk of \(path)"
        if free < 256 << 20 {
            return DoctorFinding(.failed, "disk space", "\(text): the store cannot grow; free some space or move the data folder to a larger disk")
        }
        if free < 1 << 30 || percent < 10 {
            return DoctorFinding(.warning, "disk space", "\(text): free some space before it runs out (pushes would then fail)")
        }
        return DoctorFinding(.ok, "disk space", text)
    }

    static func bytes(_ count: UInt64) -> String {
        let gib = Double(count) / Double(1 << 30)
        return gib >= 1 ? String(format: "%.1f GiB", gib) : "\(count >> 20) MiB"
    }

    static func octal(_ mode: mode_t) -> String { "0" + String(mode, radix: 8) }

    static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }
}
