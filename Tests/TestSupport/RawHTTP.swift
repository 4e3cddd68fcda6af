import Foundation

/// One HTTP/1.1 request on a connection of its own, sent and read on a thread of its own with a long
/// read limit: blocked on the cooperative pool (two threads on a two-core machine, shared by the
/// tests running beside it), the socket calls would starve the server they wait for, and a loaded
/// machine answers slower than a test client's usual limit.
public enum RawHTTP {
    /// The status line and the body of the answer to `method path` on 127.0.0.1:`port`.
    public static func request(_ port: Int, _ method: String, _ path: String, token: String, body: Data = Data(), timeout: Int = 90) async throws -> (status: String, body: Data) {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try send(port, method, path, token: token, body: body, timeout: timeout) }) }.start()
        }
    }

    /// A TCP connection to 127.0.0.1:`port` whose reads give up after `timeout` seconds.
    public static func connect(_ port: Int, timeout: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    private static func send(_ port: Int, _ method: String, _ path: String, token: String, body: Data, timeout: Int) throws -> (status: String, body: Data) {
        let fd = try connect(port, timeout: timeout)
        defer { close(fd) }
        let head = "\(method) \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        let request = Data(head.utf8) + body
        try request.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let count = Foundation.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                guard count > 0 else { throw POSIXError(.EPIPE) }
                sent += count
            }
        }
        var answer = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { break }
            answer.append(contentsOf: buffer.prefix(count))
        }
        guard let end = answer.range(of: Data("\r\n\r\n".utf8)) else { return (String(decoding: answer, as: UTF8.self), Data()) }
        let status = String(decoding: answer[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n").first ?? ""
        return (status, Data(answer[end.upperBound...]))
    }
}
