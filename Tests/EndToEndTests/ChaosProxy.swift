import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on loopback that cuts connections part-way: each connection, in each direction,
/// may pass only a random number of bytes before both sides are closed. Used to check that a
/// sync cut off mid-request or mid-response is retried until done, with no duplicates.
final class ChaosProxy: @unchecked Sendable {
    let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var random: UInt64
    private var stopped = false
    /// Percentage of connections passed through untouched.
    let passPercent: Int
    private(set) var cuts = 0
    private var pairs: [Pair] = []
    /// While set, no byte is forwarded either way and connections stay open: a silent network.
    private let frozen = Flag()

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set(_ newValue: Bool) { lock.withLock { value = newValue } }
    }

    /// Stops forwarding without closing anything (a partition), or ends the partition: new
    /// connections work again, but those open during it stay dead (their bytes were lost), as
    /// after a real partition; only their owner closing them frees them.
    func freeze(_ on: Bool) {
        if !on { for pair in lock.withLock({ pairs }) { pair.dead.set(true) } }
        frozen.set(on)
    }

    /// At most this many bytes a second in each direction of each connection (0: as fast as it goes).
    let bytesPerSecond: Int

    /// Listens on `listenPort` (0: a free one) and forwards to `upstreamPort`; `bytesPerSecond` slows
    /// each direction down to that rate (a slow network).
    init(upstreamPort: Int, seed: UInt64, passPercent: Int = 35, listenPort: Int = 0, bytesPerSecond: Int = 0) throws {
        self.upstreamPort = upstreamPort
        self.bytesPerSecond = bytesPerSecond
        self.random = seed
        self.passPercent = passPercent
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = ChaosProxy.loopback(port: listenPort)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 64) == 0 else { throw ProxyError() }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    struct ProxyError: Error {}

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Stops accepting and cuts every open connection (the upstream seems to go away).
    func stop() {
        let open = lock.withLock {
            stopped = true
            return pairs
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for pair in open { pair.cut() }
    }

    private func nextRandom() -> UInt64 {
        lock.withLock {
            random &+= 0x9E37_79B9_7F4A_7C15
            var z = random
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if lock.withLock({ stopped }) { return }
                continue
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = ChaosProxy.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard connected == 0 else {
                close(client)
                close(upstream)
                continue
            }
            let pass = Int(nextRandom() % 100) < passPercent
            // Budgets: requests are cut within their first few KB, responses anywhere in the first 64 KB.
            let up = pass ? Int.max : Int(nextRandom() % 6_000)
            let down = pass ? Int.max : Int(nextRandom() % 65_536)
            if !pass { lock.withLock { cuts += 1 } }
            let pair = Pair(client: client, upstream: upstream, frozen: frozen, bytesPerSecond: bytesPerSecond)
            lock.withLock { pairs.append(pair) }
            Thread.detachNewThread { pair.pump(from: client, to: upstream, budget: up) }
            Thread.detachNewThread { pair.pump(from: upstream, to: client, budget: down) }
        }
    }

    /// Two sockets closed together when either direction ends.
    final class Pair: @unchecked Sendable {
        let client: Int32
        let upstream: Int32
        let frozen: Flag
        let dead = Flag()
        let bytesPerSecond: Int
        private let lock = NSLock()
        private var open = 2

        init(client: Int32, upstream: Int32, frozen: Flag, bytesPerSecond: Int = 0) {
            self.client = client
            self.upstream = upstream
            self.frozen = frozen
            self.bytesPerSecond = bytesPerSecond
        }

        /// Ends both directions now (unless already closed: the descriptors may be reused by then).
        func cut() {
            lock.withLock {
                guard open > 0 else { return }
                shutdown(client, Int32(SHUT_RDWR))
                shutdown(upstream, Int32(SHUT_RDWR))
            }
        }

        func pump(from source: Int32, to target: Int32, budget: Int) {
            var left = budget
            var buffer = [UInt8](repeating: 0, count: 16_384)
            while left > 0 {
                let count = read(source, &buffer, min(buffer.count, left))
                if count <= 0 { break }
                // Frozen: hold what was read until the network "comes back".
                while (frozen.isSet || dead.isSet) && lock.withLock({ open == 2 }) { usleep(20_000) }
                var written = 0
                while written < count {
                    let n = buffer.withUnsafeBufferPointer { send(target, $0.baseAddress! + written, count - written, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { break }
                    written += n
                }
                if written < count { break }
                left -= count
                if bytesPerSecond > 0 { usleep(useconds_t(count * 1_000_000 / bytesPerSecond)) }
            }
            // Cut: close both sides (the peer sees a reset or an early end).
            shutdown(client, Int32(SHUT_RDWR))
            shutdown(upstream, Int32(SHUT_RDWR))
            lock.withLock {
                open -= 1
                if open == 0 {
                    close(client)
                    close(upstream)
                }
            }
        }
    }
}

/// A TCP listener that accepts connections and never answers: a database host that hangs.
final class SilentListener: @unchecked Sendable {
    let port: Int
    private let listener: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = ChaosProxy.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else { throw ChaosProxy.ProxyError() }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        // The kernel completes the handshake from the backlog; nobody ever reads or writes.
    }

    func stop() { close(listener) }
}
