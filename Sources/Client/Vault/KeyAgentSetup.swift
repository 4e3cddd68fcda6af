import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the starter hands a new agent over the socket pair on its standard input: a few header
/// lines, then the key's raw bytes. Never argv or the environment, which other processes can read.
struct KeyAgentSetup {
    static let version = "casebook-key-agent 1"
    /// The whole message's size limit: a header of a few lines and the key.
    static let maximumSize = 4096

    var replica: String
    var seconds: Int
    /// The starter's session leader, whose end ends the agent; 0 for none.
    var session: pid_t
    var folder: KeyAgentFolder

    /// Sends the setup and `key`, then closes the sending side so the agent sees where it ends.
    func send(key: DataKey, over channel: KeyAgentSocket, until deadline: Double) -> Bool {
        let header = "\(Self.version)\nreplica \(replica)\nseconds \(seconds)\nsession \(session)\nfolder \(folder.path)\n"
        guard channel.send(header, until: deadline), channel.send(UnsafeRawBufferPointer(key.bytes), until: deadline) else { return false }
        return shutdown(channel.descriptor, Int32(SHUT_WR)) == 0
    }

    /// Reads a setup and its key from `channel` until the starter closes its side.
    static func receive(over channel: KeyAgentSocket, until deadline: Double) throws -> (KeyAgentSetup, DataKey) {
        // The key passes through this buffer: locked in memory like the key itself, and zeroed after.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: maximumSize, alignment: 16)
        _ = mlock(buffer.baseAddress, maximumSize)
        defer {
            DataKey.zero(buffer)
            _ = munlock(buffer.baseAddress, maximumSize)
            buffer.deallocate()
        }
        let count = channel.receive(into: buffer, until: deadline)
        let keyStart = count - DataKey.byteCount
        guard count < maximumSize, keyStart > 0, buffer[keyStart - 1] == UInt8(ascii: "\n"),
              let header = String(validating: UnsafeRawBufferPointer(rebasing: buffer[..<keyStart]), as: UTF8.self),
              let setup = KeyAgentSetup(header: header),
              let key = DataKey(copying: UnsafeRawBufferPointer(rebasing: buffer[keyStart..<count])) else {
            throw ClientError("the key agent received an incomplete or malformed setup (\(count) bytes)")
        }
        return (setup, key)
    }

    init(replica: String, seconds: Int, session: pid_t, folder: KeyAgentFolder) {
        self.replica = replica
        self.seconds = seconds
        self.session = session
        self.folder = folder
    }

    private init?(header: String) {
        let lines = header.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard lines.first == Substring(Self.version) else { return nil }
        var fields: [Substring: Substring] = [:]
        for line in lines.dropFirst() {
            guard let space = line.firstIndex(of: " ") else { return nil }
            fields[line[..<space]] = line[line.index(after: space)...]
        }
        guard let replica = fields["replica"].map(String.init), KeyAgent.isValid(replica: replica),
              let seconds = fields["seconds"].flatMap({ Int($0) }), seconds > 0,
              let session = fields["session"].flatMap({ pid_t($0) }), session >= 0,
              let folder = fields["folder"].map(String.init), folder.hasPrefix("/") else { return nil }
        self.init(replica: replica, seconds: seconds, session: session, folder: KeyAgentFolder(path: folder))
    }
}
