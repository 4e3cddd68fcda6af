import Foundation
import Testing
@testable import Client

/// Issue 15, unlock: the key agent, run as the real `casebook` program. It hands back the key it
/// was given, and ends (socket gone, key zeroed, process exited) at `stop`, its timeout, a
/// replacement, its socket's removal, the end of its login session, or when wedged.
struct KeyAgentTests {
    @Test func anAgentHandsBackItsKeyUntilItIsStopped() throws {
        let place = try AgentPlace()
        defer { place.remove() }
        let id = AgentPlace.randomID(), key = DataKey.random()
        try place.start(id, key: key, seconds: 60)
        defer { KeyAgent.stop(replica: id, in: place.folder) }
        let pid = try #require(KeyAgent.agentProcess(replica: id, in: place.folder))

        let fetched = try #require(KeyAgent.key(replica: id, in: place.folder))
        #expect(fetched.matches(key))
        #expect(KeyAgent.key(replica: AgentPlace.randomID(), in: place.folder) == nil, "another replica has no agent")
        #expect(place.mode(of: place.folder.socket(replica: id)) == 0o600)
        #expect(place.mode(of: place.folder.path) == 0o700)

        #expect(KeyAgent.stop(replica: id, in: place.folder))
        #expect(!FileManager.default.fileExists(atPath: place.folder.socket(replica: id)))
        #expect(!FileManager.default.fileExists(atPath: place.folder.pidFile(replica: id)))
        #expect(KeyAgent.key(replica: id, in: place.folder) == nil)
        #expect(KeyAgent.remaining(replica: id, in: place.folder) == nil)
        #expect(AgentPlace.eventually { KeyAgentProcess.isGone(pid) }, "the agent still runs after stop")
        #expect(!KeyAgent.stop(replica: id, in: place.folder), "nothing left to stop")
    }

    @Test func remainingCountsDownFromTheDuration() throws {
        let place = try AgentPlace()
        defer { place.remove() }
        let id = AgentPlace.randomID()
        try place.start(id, key: .random(), seconds: 90)
        defer { KeyAgent.stop(replica: id, in: place.folder) }
        let left = try #require(KeyAgent.remaining(replica: id, in: place.folder))
        #expect((85...90).contains(left), "\(left)")
    }

    @Test func theAgentEndsAtItsTimeout() throws {
        let place = try AgentPlace()
        defer { place.remove() }
        let id = AgentPlace.randomID(), key = DataKey.random()
        let started = KeyAgent.now()
        try place.start(id, key: key, seconds: 2)
        defer { KeyAgent.stop(replica: id, in: place.folder) }
        let pid = try #require(KeyAgent.agentProcess(replica: id, in: place.folder))
        #expect(KeyAgent.key(replica: id, in: place.folder)?.matches(key) == true)
        #expect(AgentPlace.eventually(timeout: 6) { KeyAgentProcess.isGone(pid) }, "the agent outlived its timeout")
        #expect(KeyAgent.now() - started >= 1.5, "the agent ended before its timeout")
        #expect(KeyAgent.key(replica: id, in: place.folder) == nil)
        #expect(!FileManager.default.fileExists(atPath: place.folder.socket(replica: id)))
        #expect(!FileManager.default.fileExists(atPath: place.folder.pidFile(replica: id)))
    }

    @Test func aNewStartReplacesTheRunningAgent() throws {
        let place = try AgentPlace()
        defer { place.remove() }
        let id = AgentPlace.randomID(), first = DataKey.random(), second = DataKey.random()
        try place.start(id, key: first, seconds: 60)
        defer { KeyAgent.stop(replica: id, in: place.folder) }
        let firstPID = try #require(KeyAgent.agentProcess(replica: id, in: place.folder))
        try place.start(id, key: second, seconds: 60)
        let secondPID = try #require(KeyAgent.agentProcess(replica: id, in: place.folder))

        #expect(secondPID != firstPID)
        #expect(KeyAgentProcess.isGone(firstPID), "the replaced agent still runs")
        #expect(KeyAgent.key(replica: id, in: place.folder)?.matches(second) == true)
    }

    @Test func removingTheSocketEndsTheAgent() throws {
        // What logout does: the system empties XDG_RUNTIME_DIR.
        let place = try AgentPlace()
        defer { place.remove() }
        let id = AgentPlace.randomID()
        try place.start(id, key: .random(), seconds: 60)
        defer { KeyAgent.stop(replica: id, in: place.folder) }
        let pid = try #require(KeyAgent.agentProcess(replica: id, in: place.folder))
        unlink(place.folder.socket(replica: id))
        #expect(AgentPlace.eventually(timeout: KeyAgentServer.checkInterval + 4) { KeyAgentProcess.isGone(pid) })
        #expect(!FileManager.default.fileExists(atPath: place.folder.pidFile(replica: id)))
    }

    @Test func sigtermEndsTheAgentAfterItCleansUp() throws {
        let place = try AgentPlace()
        defer { place.remove() }
        let id = AgentPlace.randomID()
        try place.start(id, key: .random(), seconds: 60)
        defer { KeyAgent.stop(replica: id, in: place.folder) }
        let pid = try #require(KeyAgent.agentProcess(replica: id, in: place.folder))
        kill(pid, SIGTERM)
        #expect(AgentPlace.eventually { KeyAgentProcess.isGone(pid) })
        // Its files gone show it ran its own exit (which zeroes the key first), not the default action.
        #expect(!FileManager.default.fileExists(atPath: place.folder.socket(replica: id)))
        #expect(!FileManager.default.fileExists(atPath: place.folder.pidFile(replica: id)))
    }

    @Test func theEndOfTheLoginSessionEndsTheAgent() throws {
        let place = try AgentPlace()
        defer { place.remove() }
        // A session leader of our own: `setsid` run without a process group of its own does not fork.
        let null = open("/dev/null", O_RDWR)
        defer { close(null) }
        let leader = try KeyAgentProcess.run(["/usr/bin/setsid", "/bin/sleep", "60"], channel: null)
        #expect(AgentPlace.eventually { getsid(leader) == leader }, "setsid did not make a session")
        let id = AgentPlace.randomID()
        try place.start(id, key: .random(), seconds: 60, session: leader)
        defer { KeyAgent.stop(replica: id, in: place.folder) }
        let pid = try #require(KeyAgent.agentProcess(replica: id, in: place.folder))
        #expect(KeyAgent.key(replica: id, in: place.folder) != nil)

        kill(leader, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(leader, &status, 0)
        #expect(AgentPlace.eventually(timeout: KeyAgentServer.checkInterval + 4) { KeyAgentProcess.isGone(pid) })
        #expect(KeyAgent.key(replica: id, in: place.folder) == nil)
    }

    @Test func stopEndsAWedgedAgentByItsProcessID() throws {
        let place = try AgentPlace()
        defer { place.remove() }
        let id = AgentPlace.randomID()
        try place.start(id, key: .random(), seconds: 60)
        defer { KeyAgent.stop(replica: id, in: place.folder) }
        let pid = try #require(KeyAgent.agentProcess(replica: id, in: place.folder))
        kill(pid, SIGSTOP)  // answers nothing, as if hung
        #expect(KeyAgent.key(replica: id, in: place.folder) == nil)

        #expect(KeyAgent.stop(replica: id, in: place.folder))
        #expect(AgentPlace.eventually { KeyAgentProcess.isGone(pid) })
        #expect(!FileManager.default.fileExists(atPath: place.folder.socket(replica: id)))
        #expect(!FileManager.default.fileExists(atPath: place.folder.pidFile(replica: id)))
    }

    @Test func theFolderIsTheSessionsRuntimeFolderOrOneInTmp() {
        #expect(KeyAgentFolder.standard(environment: ["XDG_RUNTIME_DIR": "/run/user/1000"]).path == "/run/user/1000/casebook")
        #expect(KeyAgentFolder.standard(environment: ["XDG_RUNTIME_DIR": "/run/user/1000/"]).path == "/run/user/1000/casebook")
        // Unset, empty or relative (which the XDG spec says to ignore): a folder of this user in /tmp.
        for environment in [[:], ["XDG_RUNTIME_DIR": ""], ["XDG_RUNTIME_DIR": "run/user"]] {
            #expect(KeyAgentFolder.standard(environment: environment).path == "/tmp/casebook-\(geteuid())")
        }
        #expect(KeyAgentFolder(path: "/tmp/x").socket(replica: "ab12") == "/tmp/x/ab12.sock")
    }

    @Test func aMalformedReplicaIDOrDurationIsRefused() throws {
        let place = try AgentPlace()
        defer { place.remove() }
        #expect(throws: ClientError.self) { try place.start("../escape", key: .random(), seconds: 60) }
        #expect(throws: ClientError.self) { try place.start(AgentPlace.randomID(), key: .random(), seconds: 0) }
        #expect(KeyAgent.key(replica: "../escape", in: place.folder) == nil)
    }
}

/// A private agent folder of the test's own (not the user's real one) and what the tests ask of it.
struct AgentPlace {
    let folder: KeyAgentFolder
    static let program = [Programs.products.appendingPathComponent("casebook").path]

    init() throws {
        // Short: the socket path must fit in 108 bytes.
        folder = KeyAgentFolder(path: "/tmp/cb-agent-\(UUID().uuidString.prefix(8))")
        try folder.prepare()
    }

    func start(_ id: String, key: DataKey, seconds: Int, session: pid_t = KeyAgentProcess.loginSession()) throws {
        try KeyAgent.start(replica: id, key: key, for: seconds, in: folder, watching: session, program: Self.program)
    }

    func mode(of path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: folder.path)
    }

    static func randomID() -> String {
        (0..<16).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` seconds pass.
    static func eventually(timeout: Double = 3, _ condition: () -> Bool) -> Bool {
        let deadline = KeyAgent.now() + timeout
        while !condition() {
            guard KeyAgent.now() < deadline else { return false }
            usleep(20_000)
        }
        return true
    }
}
