import CProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The process work around the key agent: starting it detached from the caller, hardening it,
/// and recognising it later by its process id.
enum KeyAgentProcess {
    /// The hidden command that runs the agent, and the flag of its second stage.
    static let command = "agent-serve", detachedFlag = "--detached"
    /// How long a starting agent may take to say it listens (a debug build on a busy machine is slow).
    static let startTimeout = 15.0

    /// Starts the agent with `setup` and `key` (over a socket pair on its standard input) and
    /// returns its process id once it listens. `program` is the command line that runs this program.
    static func spawn(_ setup: KeyAgentSetup, key: DataKey, program: [String]) throws -> pid_t {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw ClientError("cannot start the key agent: \(String(cString: strerror(errno)))")
        }
        let channel = KeyAgentSocket(descriptor: pair[0])
        let launcher: pid_t
        do {
            defer { close(pair[1]) }
            launcher = try run(program + [command], channel: pair[1])
        }
        let deadline = KeyAgent.now() + startTimeout
        let sent = setup.send(key: key, over: channel, until: deadline)
        let reply = sent ? channel.receiveLine(limit: 1024, until: deadline) : nil
        // The first stage exits as soon as it has started the agent proper.
        var status: Int32 = 0
        _ = waitpid(launcher, &status, 0)
        guard let reply else {
            throw ClientError("the key agent did not start (no answer in \(Int(startTimeout)) seconds): try again; if it keeps failing, use --passphrase-file or CASEBOOK_PASSPHRASE instead of unlock")
        }
        if reply.hasPrefix("OK "), let pid = pid_t(reply.dropFirst(3)) { return pid }
        throw ClientError("the key agent could not start: \(reply.hasPrefix("ERR ") ? String(reply.dropFirst(4)) : reply)")
    }

    /// Runs `arguments` (the program's path first) with `channel` as standard input and output,
    /// standard error on /dev/null and an empty environment: nothing of the caller's leaks in.
    static func run(_ arguments: [String], channel: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, channel, STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, channel, STDOUT_FILENO)
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)
        // argv[0] is "casebook" whatever path runs it (/proc/self/exe is not a name for `ps`).
        let names = arguments.first == "/proc/self/exe" ? ["casebook"] + arguments.dropFirst() : arguments
        let argv = names.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // No blocked signals and default actions: the caller's thread may block SIGTERM (thread
        // pools do), and a blocked SIGTERM would never reach the agent.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let environment: [UnsafeMutablePointer<CChar>?] = [nil]
        var pid = pid_t()
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environment)
        guard result == 0 else {
            throw ClientError("cannot start the key agent (\(arguments[0])): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// The session leader of the caller's session, whose end (logout, a closed terminal) ends the
    /// agent; 0 when that leader is already gone (a detached caller), leaving only the timeout.
    static func loginSession() -> pid_t {
        let session = getsid(0)
        return session > 1 && sessionIsAlive(session) ? session : 0
    }

    /// Whether the process that led `session` still runs. A leader cannot leave its session, so a
    /// process with that id in another session is a newcomer that reused the id.
    static func sessionIsAlive(_ session: pid_t) -> Bool {
        let current = getsid(session)
        if current < 0 { return errno != ESRCH }
        return current == session
    }

    /// Makes this process a detached, private holder of a key: its own session, no core dump, no
    /// tracing or reading its memory by other processes of the same user, deaf to the terminal's signals.
    static func harden() throws {
        guard casebook_forbid_dumping() == 0, casebook_is_dumpable() == 0 else {
            throw ClientError("cannot protect the key agent's memory from other processes (\(String(cString: strerror(errno))))")
        }
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        guard setrlimit(Int32(RLIMIT_CORE.rawValue), &none) == 0 else {
            throw ClientError("cannot turn off core dumps for the key agent (\(String(cString: strerror(errno))))")
        }
        signal(SIGHUP, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        var termination = sigset_t()
        sigemptyset(&termination)
        sigaddset(&termination, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &termination, nil)
        _ = setsid()
        umask(0o077)
        _ = chdir("/")
    }

    /// Marks every open file above standard error close-on-exec, so the agent proper inherits
    /// none of the starter's files. (Closing them here could pull them from under the runtime.)
    static func closeInheritedFilesOnExec() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in names.compactMap({ Int32($0) }) where descriptor > STDERR_FILENO {
            _ = fcntl(descriptor, F_SETFD, fcntl(descriptor, F_GETFD) | FD_CLOEXEC)
        }
    }

    /// Points standard input and output at /dev/null (standard error already is).
    static func detachStandardStreams() {
        let null = open("/dev/null", O_RDWR)
        guard null >= 0 else { return }
        dup2(null, STDIN_FILENO)
        dup2(null, STDOUT_FILENO)
        if null > STDERR_FILENO { close(null) }
    }

    /// Whether `pid` runs as this user with the agent's command line (from /proc, which stays
    /// readable for a non-dumpable process).
    static func isAgent(_ pid: pid_t) -> Bool {
        guard !isGone(pid),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let uids = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }),
              uids.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst(2).first == Substring(String(geteuid())),
              let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = commandLine.split(separator: 0, omittingEmptySubsequences: false).dropFirst().map { String(decoding: $0, as: UTF8.self) }
        return arguments == [command, detachedFlag, ""]
    }

    /// Whether `pid` has exited (a zombie that no one reaped yet counts as exited).
    static func isGone(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
        return state == "Z" || state == "X"
    }

    /// Waits up to `timeout` seconds for `pid` to exit; whether it did.
    static func waitUntilGone(_ pid: pid_t, timeout: Double) -> Bool {
        let deadline = KeyAgent.now() + timeout
        while !isGone(pid) {
            guard KeyAgent.now() < deadline else { return false }
            usleep(10_000)
        }
        return true
    }
}
