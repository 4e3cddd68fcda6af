import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The key agent's side: holds one replica's key and answers this user's requests on its socket,
/// one short request per connection, until the first of: the timeout, `STOP`, SIGTERM, its socket
/// removed or replaced (logout empties XDG_RUNTIME_DIR; a new `unlock` replaces it), its folder no
/// longer private, or the end of the login session it was started from. It zeroes the key before it exits.
final class KeyAgentServer {
    /// How often the agent checks its socket and its session.
    static let checkInterval = 2.0
    /// How long a client may take to send its request: one that says nothing is dropped.
    static let requestTimeout = 1.0
    /// The longest request (`STOP\n`, with room to spare).
    static let requestLimit = 16
    /// How long the starter may take to send the setup.
    static let setupTimeout = 5.0

    private let setup: KeyAgentSetup
    private let key: DataKey
    private let listener: KeyAgentSocket
    private let socketIdentity: (device: dev_t, inode: ino_t)
    private let deadline: Double
    /// Readable once SIGTERM arrived.
    private let termination: Int32

    /// `agent-serve`, the first stage: starts the agent proper (`--detached`), which the caller
    /// therefore never has as a child to reap, and exits.
    static func detach() -> Never {
        KeyAgentProcess.closeInheritedFilesOnExec()
        do {
            _ = try KeyAgentProcess.run(["/proc/self/exe", KeyAgentProcess.command, KeyAgentProcess.detachedFlag], channel: STDIN_FILENO)
            exit(0)
        } catch {
            let message = "ERR \((error as? ClientError)?.message ?? "cannot start the key agent")\n"
            _ = Array(message.utf8).withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            exit(1)
        }
    }

    /// `agent-serve --detached`, the agent proper: hardens the process, reads its setup, listens,
    /// tells the starter, and serves until one of its ends.
    static func serve() -> Never {
        let server = startServing()
        server.run()
    }

    private static func startServing() -> KeyAgentServer {
        // The setup and the answer travel over the starter's socket pair, our standard input and output.
        let channel = KeyAgentSocket(descriptor: dup(STDIN_FILENO))
        KeyAgentProcess.detachStandardStreams()
        // Caught before anyone can learn our process id: a SIGTERM from then on zeroes the key.
        let termination = catchTermination()
        let server: KeyAgentServer
        do {
            try KeyAgentProcess.harden()
            let (setup, key) = try KeyAgentSetup.receive(over: channel, until: KeyAgent.now() + setupTimeout)
            server = try KeyAgentServer(setup: setup, key: key, termination: termination)
        } catch {
            _ = channel.send("ERR \((error as? ClientError)?.message ?? "an unexpected failure while setting up")\n", until: KeyAgent.now() + 1)
            exit(1)
        }
        // A starter that gave up waiting must not leave an agent behind.
        guard channel.send("OK \(getpid())\n", until: KeyAgent.now() + 1) else { server.finish() }
        return server
    }

    private init(setup: KeyAgentSetup, key: DataKey, termination: Int32) throws {
        self.setup = setup
        self.key = key
        self.termination = termination
        try setup.folder.check()
        let socket = setup.folder.socket(replica: setup.replica)
        // Bound under a temporary name and renamed into place: a running agent's socket is replaced
        // atomically (that agent notices and exits), and there is never a moment with no socket.
        let temporary = setup.folder.newSocket(replica: setup.replica, pid: getpid())
        unlink(temporary)
        listener = try KeyAgentSocket.listen(at: temporary)
        var info = stat()
        guard rename(temporary, socket) == 0, lstat(socket, &info) == 0 else {
            unlink(temporary)
            throw ClientError("cannot put the key agent's socket in place at \(socket): \(String(cString: strerror(errno)))")
        }
        socketIdentity = (info.st_dev, info.st_ino)
        deadline = KeyAgent.now() + Double(setup.seconds)
        try writePidFile()
    }

    /// Records the agent's process id for `lock` (written aside and renamed, so it is never half written).
    private func writePidFile() throws {
        let path = setup.folder.pidFile(replica: setup.replica), temporary = path + ".\(getpid()).new"
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        let text = Array("\(getpid())\n".utf8)
        let written = descriptor >= 0 ? write(descriptor, text, text.count) : -1
        if descriptor >= 0 { close(descriptor) }
        guard written == text.count, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            unlink(setup.folder.socket(replica: setup.replica))
            throw ClientError("cannot write the key agent's pid file \(path): \(reason)")
        }
    }

    private func run() -> Never {
        var nextCheck = KeyAgent.now() + Self.checkInterval
        while true {
            let now = KeyAgent.now()
            if now >= deadline { finish() }
            if now >= nextCheck {
                if !isStillWanted() { finish() }
                nextCheck = now + Self.checkInterval
            }
            let wait = min(deadline, nextCheck) - now
            var entries = [pollfd(fd: listener.descriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: termination, events: Int16(POLLIN), revents: 0)]
            guard poll(&entries, 2, Int32((max(wait, 0) * 1000).rounded(.up))) > 0 else { continue }
            if entries[1].revents != 0 { finish() }
            if entries[0].revents & Int16(POLLIN) != 0, let connection = listener.accept() { answer(connection) }
        }
    }

    /// Answers one request; anything else than a known request from this user gets no key.
    private func answer(_ connection: KeyAgentSocket) {
        guard connection.peerUID == geteuid() else { return }
        let answerBy = KeyAgent.now() + Self.requestTimeout
        switch connection.receiveLine(limit: Self.requestLimit, until: answerBy) {
        case "KEY":
            _ = connection.send(UnsafeRawBufferPointer(key.bytes), until: answerBy)
        case "LEFT":
            _ = connection.send("\(max(0, Int((deadline - KeyAgent.now()).rounded(.up))))\n", until: answerBy)
        case "STOP":
            release()
            _ = connection.send("OK\n", until: answerBy)
            exit(0)
        case nil:
            return
        default:
            _ = connection.send("ERR unknown request\n", until: answerBy)
        }
    }

    /// Whether the agent should go on: its socket is still the one it made, its folder still
    /// private, and the session it was started from still runs.
    private func isStillWanted() -> Bool {
        guard ownsSocket, setup.folder.isPrivate else { return false }
        return setup.session == 0 || KeyAgentProcess.sessionIsAlive(setup.session)
    }

    private var ownsSocket: Bool {
        var info = stat()
        return lstat(setup.folder.socket(replica: setup.replica), &info) == 0
            && info.st_dev == socketIdentity.device && info.st_ino == socketIdentity.inode
    }

    /// Zeroes the key and removes the agent's socket and pid file (those still its own).
    private func release() {
        DataKey.zero(key.bytes)
        if ownsSocket { unlink(setup.folder.socket(replica: setup.replica)) }
        let pidFile = setup.folder.pidFile(replica: setup.replica)
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), text == "\(getpid())\n" { unlink(pidFile) }
    }

    private func finish() -> Never {
        release()
        exit(0)
    }

    /// Makes SIGTERM wake the serving loop (a byte on a pipe) instead of ending the process with the key in memory.
    private static func catchTermination() -> Int32 {
        let reader = terminationPipe.reader
        signal(SIGTERM) { _ in
            var byte: UInt8 = 1
            _ = write(terminationPipe.writer, &byte, 1)
        }
        return reader
    }
}

/// The self-pipe of `catchTermination`: a global, since a signal handler can capture nothing.
private let terminationPipe: (reader: Int32, writer: Int32) = {
    var ends: [Int32] = [-1, -1]
    _ = pipe(&ends)
    // Non-blocking, so that the handler never waits on a full pipe.
    for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
    return (ends[0], ends[1])
}()
