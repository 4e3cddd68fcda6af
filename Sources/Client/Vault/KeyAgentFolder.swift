import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The private folder holding the key agents' sockets and pid files: `$XDG_RUNTIME_DIR/casebook`
/// (a per-user tmpfs that the system removes at logout) or, where that is unset, `/tmp/casebook-UID`.
///
/// Used only when it is a real folder (not a link) owned by this user with no group or other
/// permissions: a folder someone else made or opened up could hand us their socket.
struct KeyAgentFolder: Sendable {
    let path: String

    init(path: String) {
        self.path = path
    }

    /// The folder for this user and session, from the environment.
    static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> KeyAgentFolder {
        // The XDG spec: a relative XDG_RUNTIME_DIR is invalid and must be ignored.
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return KeyAgentFolder(path: (runtime.hasSuffix("/") ? String(runtime.dropLast()) : runtime) + "/casebook")
        }
        return KeyAgentFolder(path: "/tmp/casebook-\(geteuid())")
    }

    /// The agent's socket for a replica.
    func socket(replica id: String) -> String { "\(path)/\(id).sock" }

    /// The file holding the agent's process id, so that `lock` can end an agent that stopped answering.
    func pidFile(replica id: String) -> String { "\(path)/\(id).pid" }

    /// Where a starting agent binds its socket before renaming it into place.
    func newSocket(replica id: String, pid: pid_t) -> String { "\(path)/\(id).\(pid).new" }

    /// Creates the folder (0700) if missing, then checks it.
    func prepare() throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            let reason = String(cString: strerror(errno))
            throw ClientError("cannot create the key agent's folder \(path) (\(reason)): check that its parent exists and is yours, or set XDG_RUNTIME_DIR")
        }
        try check()
        // The longest path the agent binds must fit a socket address (108 bytes with the final NUL).
        let longest = newSocket(replica: String(repeating: "f", count: KeyAgent.maximumIDLength), pid: 9_999_999)
        guard longest.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else {
            throw ClientError("the key agent's folder path \(path) is too long for a socket: set XDG_RUNTIME_DIR to a shorter folder of your own")
        }
    }

    /// Throws unless the folder is a folder (not a link) owned by this user, closed to everyone else.
    func check() throws {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw ClientError("the key agent's folder \(path) is missing: run 'casebook unlock' again")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw ClientError("the key agent's folder \(path) is not a folder (a link or a file is there): remove it and run 'casebook unlock' again")
        }
        guard info.st_uid == geteuid() else {
            throw ClientError("the key agent's folder \(path) belongs to another user (uid \(info.st_uid)), who could read the key through it: remove it (ask an administrator) or set XDG_RUNTIME_DIR to a folder of your own")
        }
        guard info.st_mode & 0o077 == 0 else {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw ClientError("the key agent's folder \(path) is open to other users (mode \(mode)): run 'chmod 700 \(path)' or remove it, then 'casebook unlock' again")
        }
    }

    /// Whether the folder passes `check()`.
    var isPrivate: Bool { (try? check()) != nil }
}
