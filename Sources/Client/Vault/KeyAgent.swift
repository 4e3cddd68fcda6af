import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The unlocked session: a small background process (the key agent, like ssh-agent) that holds one
/// replica's data key in locked memory and hands it to this user's later commands over a private
/// Unix socket, until the timeout, `casebook lock`, logout or the end of the login session.
///
/// The agent is this program itself (`casebook agent-serve`, hidden); `KeyAgentServer` is its side.
/// Protocol: one request line per connection, `KEY` (answer: the key's raw bytes), `LEFT`
/// (seconds left) or `STOP` (the agent zeroes the key, answers `OK` and exits).
enum KeyAgent {
    /// A replica id is hex, at most this long (it names the socket).
    static let maximumIDLength = 64
    /// The longest unlock: a year, which no one should use.
    static let longestDuration = 366 * 24 * 3600
    /// How long a command waits for an agent's answer before it treats the replica as locked.
    static let answerTimeout = 2.0

    /// Starts a background agent holding `key` for the replica `id` (the random hex id from the
    /// replica's key file) for `duration` seconds, replacing a running one for the same id.
    /// Returns once the agent listens; throws a `ClientError` saying why when it cannot start.
    static func start(replica id: String, key: DataKey, for duration: Int, in folder: KeyAgentFolder = .standard()) throws {
        try start(replica: id, key: key, for: duration, in: folder, watching: KeyAgentProcess.loginSession(), program: ["/proc/self/exe"])
    }

    /// `start`, with the session whose end stops the agent (0: none) and the command line that
    /// runs this program chosen by the caller: the tests run the built binary.
    static func start(replica id: String, key: DataKey, for duration: Int, in folder: KeyAgentFolder,
                      watching session: pid_t, program: [String]) throws {
        guard isValid(replica: id) else {
            throw ClientError("the replica's key file has a malformed id '\(id.prefix(80))': restore the key file from a backup")
        }
        guard duration > 0, duration <= longestDuration else {
            throw ClientError("cannot unlock for \(duration) seconds: give a duration from 1 second to 366 days (for example --for 8h)")
        }
        try folder.prepare()
        stop(replica: id, in: folder)
        let setup = KeyAgentSetup(replica: id, seconds: duration, session: session, folder: folder)
        do {
            _ = try KeyAgentProcess.spawn(setup, key: key, program: program)
        } catch {
            // An agent that came up too late to say so must not keep the key.
            stop(replica: id, in: folder)
            throw error
        }
    }

    /// The key, if an agent for `id` runs as this user and answers; nil otherwise (no agent, no
    /// answer in time, a folder or socket of another user).
    static func key(replica id: String, in folder: KeyAgentFolder = .standard()) -> DataKey? {
        guard let connection = connect(replica: id, in: folder) else { return nil }
        let deadline = now() + answerTimeout
        guard connection.send("KEY\n", until: deadline) else { return nil }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: DataKey.byteCount, alignment: 16)
        _ = mlock(buffer.baseAddress, DataKey.byteCount)
        defer {
            DataKey.zero(buffer)
            _ = munlock(buffer.baseAddress, DataKey.byteCount)
            buffer.deallocate()
        }
        guard connection.receive(into: buffer, until: deadline) == DataKey.byteCount else { return nil }
        return DataKey(copying: UnsafeRawBufferPointer(buffer))
    }

    /// How many seconds the agent for `id` has left, if one runs and answers.
    static func remaining(replica id: String, in folder: KeyAgentFolder = .standard()) -> Int? {
        guard let connection = connect(replica: id, in: folder) else { return nil }
        let deadline = now() + answerTimeout
        guard connection.send("LEFT\n", until: deadline) else { return nil }
        return connection.receiveLine(limit: 24, until: deadline).flatMap { Int($0) }
    }

    /// Stops the agent for `id`: asked first (it zeroes the key and exits); one that does not
    /// answer is ended by the process id it recorded (SIGTERM, then SIGKILL). Whether one ran.
    /// Works in a folder that is no longer private too (`lock` must not say "already locked" while
    /// an agent runs): STOP reveals nothing, and only an agent of this user is asked or ended.
    @discardableResult
    static func stop(replica id: String, in folder: KeyAgentFolder = .standard()) -> Bool {
        guard isValid(replica: id) else { return false }
        let pid = agentProcess(replica: id, in: folder)
        if let connection = KeyAgentSocket.connect(to: folder.socket(replica: id), timeout: answerTimeout),
           connection.send("STOP\n", until: now() + answerTimeout),
           connection.receiveLine(limit: 8, until: now() + answerTimeout) == "OK" {
            if let pid { _ = KeyAgentProcess.waitUntilGone(pid, timeout: answerTimeout) }
            return true
        }
        guard let pid else { return false }
        // Wedged, stopped, or its socket removed: end it by its process id (SIGCONT: a stopped
        // process acts on SIGTERM only once it runs again, and then zeroes the key).
        kill(pid, SIGTERM)
        kill(pid, SIGCONT)
        if !KeyAgentProcess.waitUntilGone(pid, timeout: answerTimeout) {
            kill(pid, SIGKILL)
            _ = KeyAgentProcess.waitUntilGone(pid, timeout: answerTimeout)
        }
        if folder.isPrivate {
            unlink(folder.pidFile(replica: id))
            unlink(folder.socket(replica: id))
        }
        return true
    }

    /// The process id in the agent's pid file, if the file is this user's and names a running agent of this user.
    static func agentProcess(replica id: String, in folder: KeyAgentFolder = .standard()) -> pid_t? {
        guard isValid(replica: id) else { return nil }
        let descriptor = open(folder.pidFile(replica: id), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        var text = [UInt8](repeating: 0, count: 16)
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid() else { return nil }
        let count = read(descriptor, &text, text.count)
        guard count > 0, let pid = pid_t(String(decoding: text[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
              pid > 1, KeyAgentProcess.isAgent(pid) else { return nil }
        return pid
    }

    /// Whether `id` can name a replica's agent: hex digits only, so it cannot leave the folder.
    static func isValid(replica id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= maximumIDLength && id.utf8.allSatisfy { $0.isHexDigit }
    }

    /// Seconds on a clock that keeps counting while the machine sleeps: an unlock ends on time across a suspend.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_BOOTTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1_000_000_000
    }

    private static func connect(replica id: String, in folder: KeyAgentFolder) -> KeyAgentSocket? {
        guard isValid(replica: id), folder.isPrivate else { return nil }
        return KeyAgentSocket.connect(to: folder.socket(replica: id), timeout: answerTimeout)
    }
}

private extension UInt8 {
    var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
