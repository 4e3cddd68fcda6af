import Foundation
import TestSupport
import Testing

/// How `casebook-server serve` stops: SIGTERM finishes the requests in flight and exits 0 (see
/// `ResearcherDayTests`); what is still running after `--shutdown-grace` is cut short, and the
/// process exits 1 saying so, instead of waiting for good.
@Suite(.serialized) struct ServerStopTests {
    /// Opens a connection to the server and sends the head of a push and the start of its body,
    /// then nothing more: a request in flight that never ends.
    func stalledPush(_ url: String, token: String) throws -> Int32 {
        let port = try #require(URLComponents(string: url)?.port)
        let fd = try RawHTTP.connect(port, timeout: 60)
        let head = "POST /v1/projects/kz/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"changes\":["
        _ = head.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        return fd
    }

    @Test func aStopCutsShortARequestThatNeverEndsAfterTheGrace() throws {
        let server = try RunningServer()
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher")])
        // The idle limit well beyond the grace: only the stop's own bound can end this.
        try server.start(extra: ["--shutdown-grace", "2", "--idle-timeout", "600"])
        let fd = try stalledPush(server.url, token: try #require(tokens["ana"]))
        defer { close(fd) }
        Thread.sleep(forTimeInterval: 1)
        #expect(server.process.isRunning)
        let signalled = Date()
        server.process.terminate()
        // Without the bound the server waits for the body for good; the test gives up after a minute.
        let deadline = signalled.addingTimeInterval(60)
        while server.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) }
        server.process.waitUntilExit()
        #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 1, "\(server.logText)")
        #expect(Date().timeIntervalSince(signalled) >= 2, "the stop did not wait for the request in flight")
        #expect(server.logText.contains("did not stop within 2 s of the signal"), "\(server.logText)")
        // The stalled connection is closed with the process, unanswered.
        var byte: UInt8 = 0
        #expect(read(fd, &byte, 1) <= 0)
    }

    @Test func aGraceOfLessThanASecondIsRefused() throws {
        let result = try Programs.run("casebook-server", ["serve", "--shutdown-grace", "0", "--port", "0"])
        #expect(result.code == 64, "\(result.code) \(result.stderr)")
        #expect(result.stderr.contains("--shutdown-grace must be at least 1 second"))
    }
}
