import Foundation
import Logging
import HummingbirdTesting
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Connections that send nothing, or a request head that never ends, are closed; the connections
/// held open at once are capped; the server keeps answering throughout.
@Suite struct IdleConnectionTests {
    /// A TCP connection to 127.0.0.1:`port` with reads that give up after `timeout` seconds.
    func connect(_ port: Int, timeout: Int = 30) throws -> Int32 { try RawHTTP.connect(port, timeout: timeout) }

    /// Runs blocking socket calls on a thread of their own: blocked on the cooperative pool (two
    /// threads on a two-core machine, shared by the tests running in parallel), they would starve the
    /// server's handlers they wait for.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Whether the server closed the connection (a read sees the end) before the read timeout.
    func closedByServer(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        return read(fd, &byte, 1) == 0
    }

    /// The status line of a GET of `path` on a connection of its own (the test client's connection
    /// would itself be closed as idle between requests).
    func get(_ port: Int, _ path: String, token: String? = nil, timeout: Int = 30) throws -> String {
        let fd = try connect(port, timeout: timeout)
        defer { close(fd) }
        let request = "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + (token.map { "Authorization: Bearer \($0)\r\n" } ?? "") + "\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 1_024)
        let count = read(fd, &buffer, buffer.count)
        return String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self).components(separatedBy: "\r\n").first ?? ""
    }

    /// The status lines of up to three attempts of `request`, ending at the first `200 OK`.
    func answered(_ request: @escaping @Sendable () throws -> String) async throws -> [String] {
        var answers: [String] = []
        while answers.count < 3 && answers.last != "HTTP/1.1 200 OK" {
            answers.append(try await blocking(request))
        }
        return answers
    }

    @Test(arguments: StoreKind.allCases) func silentAndNeverEndingConnectionsAreClosedAndTheServerKeepsAnswering(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store) {
            // Short, but not so short that a loaded machine reads a request head later than this: on CI,
            // with the other suites running beside it, 2 s was once too short for a valid request.
            $0.idleTimeout = .seconds(5)
            $0.maxConnections = 16
        }
        defer { harness.cleanUp() }
        try await harness.app.test(.live) { (client) async throws in
            let port = try #require(client.port)
            // Four connections that say nothing, and one that sends a request head a line at a time, never ending it.
            let silent = try await blocking { try (0..<4).map { _ in try connect(port) } }
            let trickle = try await blocking { try connect(port) }
            let trickling = Task.detached {
                var sent = 0
                for line in ["GET /v1/health HTTP/1.1\r\n", "Host: x\r\n"] + Array(repeating: "X-Slow: 1\r\n", count: 100) {
                    guard line.withCString({ send(trickle, $0, strlen($0), Int32(MSG_NOSIGNAL)) }) > 0 else { break }
                    sent += 1
                    try? await Task.sleep(for: .milliseconds(200))
                }
                return sent
            }
            // A health check and a valid user are answered meanwhile.
            let token = harness.tokens["ana"]
            // A request a loaded machine is slow to answer (CI, with the other suites beside it) is asked
            // again, up to three times; what each attempt got is in the message.
            let health = try await answered { try get(port, "/v1/health") }
            #expect(health.last == "HTTP/1.1 200 OK", "\(health)")
            let pull = try await answered { try get(port, "/v1/projects/kz/pull", token: token) }
            #expect(pull.last == "HTTP/1.1 200 OK", "\(pull)")
            // Closed by the server (the read sees the end) rather than left open until the read gives up.
            for fd in silent {
                #expect(try await blocking { closedByServer(fd) })
                close(fd)
            }
            // The trickling head is cut off well before its 100 lines (20 s) are through.
            #expect(await trickling.value < 80)
            close(trickle)
            #expect(try await blocking { try get(port, "/v1/health") } == "HTTP/1.1 200 OK")
        }
    }

    @Test func theConnectionCapStopsAcceptingAtItsLimitAndResumesBelowIt() {
        var cap = ConnectionCap(maximum: 2, logger: Logger(label: "test"))
        #expect(cap.isAcceptingNewConnections())
        cap.connectionOpened()
        #expect(cap.isAcceptingNewConnections())
        cap.connectionOpened()
        #expect(!cap.isAcceptingNewConnections())
        cap.connectionClosed()
        #expect(cap.isAcceptingNewConnections())
    }
}
