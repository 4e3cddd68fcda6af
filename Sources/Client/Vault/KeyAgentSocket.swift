import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One end of a key agent's Unix socket (listening, or one connection), closed when released.
///
/// Every read and write has a deadline: neither side can be held up by a peer that says nothing
/// or stops reading. Deadlines are `KeyAgent.now()` seconds.
final class KeyAgentSocket {
    let descriptor: Int32

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// A connection to the agent listening at `path`; nil if none answers in `timeout` seconds or
    /// the process listening there runs as another user.
    static func connect(to path: String, timeout: Double) -> KeyAgentSocket? {
        guard var address = address(of: path) else { return nil }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        let connection = KeyAgentSocket(descriptor: descriptor)
        // Linux honours the send timeout in connect(): an agent whose queue is full does not block us.
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0, connection.peerUID == geteuid() else { return nil }
        return connection
    }

    /// A socket listening at `path` (which must not exist yet), readable and writable by this user only.
    static func listen(at path: String) throws -> KeyAgentSocket {
        guard var address = address(of: path) else { throw ClientError("the key agent's socket path \(path) is too long") }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ClientError("cannot make the key agent's socket: \(String(cString: strerror(errno)))") }
        let listener = KeyAgentSocket(descriptor: descriptor)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, chmod(path, 0o600) == 0, Glibc.listen(descriptor, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw ClientError("cannot listen on the key agent's socket \(path): \(reason)")
        }
        // accept() must never block the agent: a client may give up between poll() and accept().
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        return listener
    }

    /// The next waiting connection, if any.
    func accept() -> KeyAgentSocket? {
        let client = Glibc.accept(descriptor, nil, nil)
        return client >= 0 ? KeyAgentSocket(descriptor: client) : nil
    }

    /// The user id of the process at the other end (from the kernel, SO_PEERCRED), if known.
    var peerUID: uid_t? {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }, Linux's fixed layout.
        var credentials: (Int32, UInt32, UInt32) = (0, UInt32.max, UInt32.max)
        var length = socklen_t(MemoryLayout.size(ofValue: credentials))
        guard getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0,
              length == MemoryLayout.size(ofValue: credentials) else { return nil }
        return credentials.1
    }

    /// Sends all of `bytes` before `deadline`; whether it did.
    func send(_ bytes: UnsafeRawBufferPointer, until deadline: Double) -> Bool {
        var offset = 0
        while offset < bytes.count {
            guard wait(for: Int16(POLLOUT), until: deadline) else { return false }
            let sent = Glibc.send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            if sent < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Sends `text` before `deadline`; whether it did.
    func send(_ text: String, until deadline: Double) -> Bool {
        Array(text.utf8).withUnsafeBytes { send($0, until: deadline) }
    }

    /// Reads into `buffer` until it is full, the peer closes, `deadline` passes or (with
    /// `line`) a newline arrives. Returns how many bytes arrived.
    func receive(into buffer: UnsafeMutableRawBufferPointer, until deadline: Double, line: Bool = false) -> Int {
        var count = 0
        while count < buffer.count {
            guard wait(for: Int16(POLLIN), until: deadline) else { break }
            let got = recv(descriptor, buffer.baseAddress! + count, buffer.count - count, Int32(MSG_DONTWAIT))
            if got < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            guard got > 0 else { break }
            count += got
            if line && buffer[count - 1] == UInt8(ascii: "\n") { break }
        }
        return count
    }

    /// Reads one short line (at most `limit` bytes, newline included) before `deadline`, without the newline.
    func receiveLine(limit: Int, until deadline: Double) -> String? {
        var bytes = [UInt8](repeating: 0, count: limit)
        let count = bytes.withUnsafeMutableBytes { receive(into: $0, until: deadline, line: true) }
        guard count > 0, bytes[count - 1] == UInt8(ascii: "\n") else { return nil }
        return String(decoding: bytes[..<(count - 1)], as: UTF8.self)
    }

    /// Waits until the socket is ready for `events`; false once `deadline` passes or on an error.
    private func wait(for events: Int16, until deadline: Double) -> Bool {
        while true {
            let left = deadline - KeyAgent.now()
            guard left > 0 else { return false }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32((left * 1000).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }

    private static func address(of path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return address
    }
}
