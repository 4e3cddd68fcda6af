import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import Shared

/// Helpers of the evidence-file tests: files of random bytes, what the server says it holds, and
/// programs started without waiting for them.
enum EvidenceFiles {
    /// Writes `size` random bytes as `name` in `researcher`'s folder (removed with it); returns the path and the SHA-256.
    static func random(_ size: Int, name: String, for researcher: Researcher) throws -> (path: String, sha256: String) {
        try FileManager.default.createDirectory(at: researcher.home, withIntermediateDirectories: true)
        let url = researcher.home.appendingPathComponent(name)
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        let data = try random.read(upToCount: size) ?? Data()
        try data.write(to: url)
        return (url.path, try sha256(url.path))
    }

    /// The SHA-256 of a file, as `sha256sum` computes it (a program beside ours, not our code).
    static func sha256(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }

    /// What the server holds of a file: `POST files/status` with `token`. Synchronous: the answer comes
    /// back on URLSession's own queue, so a cooperative thread pool held by other tests cannot delay it.
    static func status(_ server: RunningServer, token: String, _ sha256: String) throws -> Wire.FileStatus {
        var request = URLRequest(url: try #require(URL(string: "\(server.url)/v1/projects/kz/files/status")))
        request.httpMethod = "POST"
        request.httpBody = try JSONEncoder().encode(Wire.FileStatusRequest(files: [sha256]))
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = 60
        let answer = Answer(), done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, _, error in
            answer.set(data, error)
            done.signal()
        }.resume()
        done.wait()
        let (data, error) = answer.get()
        if let error { throw error }
        return try #require(try JSONDecoder().decode(Wire.FileStatusResponse.self, from: data ?? Data()).files.first)
    }

    /// The body or error of one request, handed from URLSession's queue to the waiting test.
    private final class Answer: @unchecked Sendable {
        private let lock = NSLock()
        private var data: Data?
        private var error: Error?
        func set(_ data: Data?, _ error: Error?) { lock.withLock { (self.data, self.error) = (data, error) } }
        func get() -> (Data?, Error?) { lock.withLock { (data, error) } }
    }

    /// Starts `casebook` without waiting for it.
    static func launch(_ researcher: Researcher, _ arguments: [String]) throws -> Process {
        try FaultTests.launch(researcher, arguments)
    }

    /// Waits until `condition` holds (checked every 5 ms, at most `seconds`); returns whether it did.
    /// It polls on the test's own thread: an async sleep would wait for a free cooperative thread, and
    /// two long synchronous tests can hold both of this machine's, while the transfer it watches ends.
    static func wait(seconds: Double = 60, until condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(5_000)
        }
        return false
    }

    /// The size of the file of `researcher`'s replica whose name ends with `suffix`, or 0.
    static func storedSize(_ researcher: Researcher, suffix: String) -> Int {
        let folder = researcher.home.appendingPathComponent("sealed")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        guard let name = names.first(where: { $0.hasSuffix(suffix) }) else { return 0 }
        return (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)[.size] as? Int) ?? 0
    }

    /// The files of `researcher`'s record, as `files --json` lists them.
    static func files(_ researcher: Researcher, _ id: String) throws -> [[String: Any]] {
        try researcher.ok("files", id, "--json").array()
    }
}
