import Foundation
import Testing
@testable import Client

/// Issue 15, unlock: what keeps the agent's key from others. Its folder must be private; the key
/// never shows in its command line or environment; the process cannot be dumped or traced; and no
/// client can crash it or hold it up.
struct KeyAgentHardeningTests {
    @Test func aFolderOpenToOthersOrOwnedByAnotherUserIsRefused() throws {
        let place = try AgentPlace()
        defer { place.remove() }
        let id = AgentPlace.randomID()
        try place.start(id, key: .random(), seconds: 60)
        defer { KeyAgent.stop(replica: id, in: place.folder) }

        let pid = try #require(KeyAgent.agentProcess(replica: id, in: place.folder))
        chmod(place.folder.path, 0o750)
        #expect(KeyAgent.key(replica: id, in: place.folder) == nil, "a key handed out through a group-readable folder")
        let refusal = #expect(throws: ClientError.self) { try place.start(AgentPlace.randomID(), key: .random(), seconds: 60) }
        #expect(refusal?.message.contains("open to other users (mode 750)") == true, "\(refusal?.message ?? "")")
        // The running agent notices at its next check, and forgets the key.
        #expect(AgentPlace.eventually(timeout: KeyAgentServer.checkInterval + 4) { KeyAgentProcess.isGone(pid) })
        chmod(place.folder.path, 0o700)
        try place.start(id, key: .random(), seconds: 60)
        #expect(KeyAgent.key(replica: id, in: place.folder) != nil)

        // A link where the folder should be, even to a private folder of ours, is refused.
        let link = KeyAgentFolder(path: place.folder.path + "-link")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: place.folder.path)
        defer { unlink(link.path) }
        #expect(KeyAgent.key(replica: id, in: link) == nil)
        #expect(throws: ClientError.self) { try link.prepare() }

        // Only root can give a folder away: the test of another user's folder needs it.
        guard geteuid() == 0 else { return }
        chown(place.folder.path, 65534, 65534)
        defer { chown(place.folder.path, 0, 0) }
        #expect(KeyAgent.key(replica: id, in: place.folder) == nil)
        let foreign = #expect(throws: ClientError.self) { try place.folder.prepare() }
        #expect(foreign?.message.contains("belongs to another user (uid 65534)") == true, "\(foreign?.message ?? "")")
    }

    @Test func theKeyIsNeverInTheAgentsCommandLineOrEnvironment() throws {
        let place = try AgentPlace()
        defer { place.remove() }
        let id = AgentPlace.randomID(), key = DataKey.random()
        try place.start(id, key: key, seconds: 60)
        defer { KeyAgent.stop(replica: id, in: place.folder) }
        let pid = try #require(KeyAgent.agentProcess(replica: id, in: place.folder))

        let commandLine = try #require(FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"))
        #expect(commandLine == Data("casebook\0agent-serve\0--detached\0".utf8))
        let environment = try #require(FileManager.default.contents(atPath: "/proc/\(pid)/environ"))
        #expect(environment.isEmpty, "the agent inherited an environment: \(environment.count) bytes")
        let raw = Data(UnsafeRawBufferPointer(key.bytes)), hex = Data(raw.map { String(format: "%02x", $0) }.joined().utf8)
        for text in [commandLine, environment] {
            #expect(text.range(of: raw) == nil && text.range(of: hex) == nil)
        }
    }

    @Test func theAgentCannotBeDumpedAndIgnoresTheTerminalsSignals() throws {
        let place = try AgentPlace()
        defer { place.remove() }
        let id = AgentPlace.randomID()
        try place.start(id, key: .random(), seconds: 60)
        defer { KeyAgent.stop(replica: id, in: place.folder) }
        let pid = try #require(KeyAgent.agentProcess(replica: id, in: place.folder))

        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let core = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        #expect(core.split(separator: " ").dropFirst(4).prefix(2) == ["0", "0"], "\(core)")
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let ignoredMask = try #require(Self.field("SigIgn", in: status))
        let ignored = try #require(UInt64(ignoredMask, radix: 16))
        for signal in [SIGHUP, SIGINT, SIGPIPE] { #expect(ignored & (1 << UInt64(signal - 1)) != 0, "signal \(signal) not ignored") }
        #expect(Self.field("VmLck", in: status) != "0 kB", "the key's page is not locked in memory")
        #expect(kill(pid, SIGHUP) == 0 && kill(pid, SIGINT) == 0)
        #expect(KeyAgent.key(replica: id, in: place.folder) != nil, "a terminal's signal ended the agent")

        // Non-dumpable: the kernel then gives the process's /proc files to root. Seen from a user
        // other than root, so the test runs the agent as `nobody` when it runs as root.
        if geteuid() == 0 {
            try Self.expectNonDumpableAgentRunAsNobody()
        } else {
            #expect(place.owner(of: "/proc/\(pid)/status") == 0)
        }
    }

    @Test func clientsThatSendGarbageOrNothingNeitherEndNorHoldUpTheAgent() throws {
        let place = try AgentPlace()
        defer { place.remove() }
        let id = AgentPlace.randomID(), key = DataKey.random()
        try place.start(id, key: key, seconds: 60)
        defer { KeyAgent.stop(replica: id, in: place.folder) }
        let socket = place.folder.socket(replica: id)

        // A client that connects and says nothing is dropped in time for the next one.
        let silent = try #require(KeyAgentSocket.connect(to: socket, timeout: 2))
        #expect(KeyAgent.key(replica: id, in: place.folder)?.matches(key) == true)
        #expect(silent.receiveLine(limit: 8, until: KeyAgent.now() + 1) == nil)

        let unknown = try #require(KeyAgentSocket.connect(to: socket, timeout: 2))
        #expect(unknown.send("GIVE ME THE KEY\n", until: KeyAgent.now() + 1))
        #expect(unknown.receiveLine(limit: 64, until: KeyAgent.now() + 2) == "ERR unknown request")

        for garbage in [Data((0..<4096).map { _ in UInt8.random(in: 0...255) }), Data("KE".utf8), Data("KEY".utf8), Data()] {
            let client = try #require(KeyAgentSocket.connect(to: socket, timeout: 2))
            _ = garbage.withUnsafeBytes { client.send($0, until: KeyAgent.now() + 1) }
            shutdown(client.descriptor, Int32(SHUT_WR))
            var answer = [UInt8](repeating: 0, count: 64)
            let count = answer.withUnsafeMutableBytes { client.receive(into: $0, until: KeyAgent.now() + 2) }
            #expect(count < DataKey.byteCount, "a malformed request got \(count) bytes back")
        }
        #expect(KeyAgent.key(replica: id, in: place.folder)?.matches(key) == true)
        #expect(KeyAgent.remaining(replica: id, in: place.folder) != nil)
    }

    /// Starts an agent as `nobody` in a folder of nobody's, then checks its /proc files are root's.
    static func expectNonDumpableAgentRunAsNobody() throws {
        let setpriv = "/usr/bin/setpriv"
        try #require(FileManager.default.isExecutableFile(atPath: setpriv), "setpriv (util-linux) is needed to run the agent as another user")
        let folder = KeyAgentFolder(path: "/tmp/cb-nobody-\(UUID().uuidString.prefix(8))")
        #expect(mkdir(folder.path, 0o700) == 0 && chown(folder.path, 65534, 65534) == 0)
        defer { try? FileManager.default.removeItem(atPath: folder.path) }
        let setup = KeyAgentSetup(replica: AgentPlace.randomID(), seconds: 30, session: 0, folder: folder)
        let program = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] + AgentPlace.program
        let pid = try KeyAgentProcess.spawn(setup, key: .random(), program: program)
        defer {
            // Gone before its folder is removed, or the two would race over the files in it.
            kill(pid, SIGTERM)
            _ = KeyAgentProcess.waitUntilGone(pid, timeout: 3)
        }
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        #expect(field("Uid", in: status)?.hasPrefix("65534") == true, "the agent does not run as nobody: \(status)")
        var info = stat()
        #expect(stat("/proc/\(pid)/status", &info) == 0 && info.st_uid == 0, "the agent can be dumped or traced by its user")
    }

    static func field(_ name: String, in status: String) -> String? {
        status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            .map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
    }
}

extension AgentPlace {
    func owner(of path: String) -> uid_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_uid : nil
    }
}
