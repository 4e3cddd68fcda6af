import Foundation
import Shared

/// Running the real programs and measuring them.
enum Processes {
    struct Result {
        var code: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
        /// Peak resident memory in bytes (VmHWM), sampled while it ran.
        var peakRSS: Int
        /// CPU time (user + system) it used, in seconds: steadier than `seconds` on a busy machine.
        var cpuSeconds: Double = 0
    }

    /// The programs' environment: the replicas' keys come from `casebook unlock`, as in a researcher's
    /// day, never from the caller's environment (a passphrase there would be tried first, and be wrong).
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in ["CASEBOOK_PASSPHRASE", "CASEBOOK_NEW_PASSPHRASE", "CASEBOOK_KDF", "CASEBOOK_HOME"] { environment.removeValue(forKey: key) }
        if cheapKeyDerivation { environment["CASEBOOK_KDF"] = "fast" }
        return environment
    }

    /// `--smoke` only: the replicas' passphrases are stretched at libsodium's minimum cost (the
    /// test-only `CASEBOOK_KDF=fast`) instead of a real replica's, which is most of what a smoke run's
    /// forty `init`s and `unlock`s cost. Set once, before any program runs.
    nonisolated(unsafe) static var cheapKeyDerivation = false

    /// Runs a program to completion, timing it and sampling its peak memory.
    static func run(_ executable: URL, _ arguments: [String], input: String? = nil) throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-bench-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out"), err = folder.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        process.environment = environment
        let clock = ContinuousClock()
        let start = clock.now
        let cpuBefore = childrenCPUSeconds()
        try process.run()
        var peak = 0
        while process.isRunning {
            peak = max(peak, peakRSS(pid: process.processIdentifier) ?? 0)
            usleep(2_000)
        }
        process.waitUntilExit()
        let elapsed = clock.now - start
        return Result(code: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                      stderr: try String(contentsOf: err, encoding: .utf8),
                      seconds: elapsed.seconds, peakRSS: peak, cpuSeconds: childrenCPUSeconds() - cpuBefore)
    }

    /// The CPU time of every child process reaped so far (the programs run one at a time, so the
    /// difference around one run is that program's).
    static func childrenCPUSeconds() -> Double { usedCPUSeconds(RUSAGE_CHILDREN) }

    /// The CPU time of this process so far (every thread's).
    static func ownCPUSeconds() -> Double { usedCPUSeconds(RUSAGE_SELF) }

    private static func usedCPUSeconds(_ who: __rusage_who) -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(who.rawValue), &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The CPU time (user + system) a running process has used so far, in seconds.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // After the command name in parentheses: state is field 3, utime 14 and stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// VmHWM of a running process, in bytes.
    static func peakRSS(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kb * 1024
    }

    /// Resident memory of a running process now (VmRSS), in bytes.
    static func rss(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kb * 1024
    }

    /// Resets a process's peak memory counter, so the next reading covers one phase only.
    static func resetPeakRSS(pid: Int32) {
        try? "5".write(toFile: "/proc/\(pid)/clear_refs", atomically: false, encoding: .utf8)
    }
}

/// A `casebook-server serve` for the length of a benchmark phase.
final class BenchServer {
    let process = Process()
    let data: URL
    let url: String
    let bin: URL
    /// PostgreSQL: the fresh database this server uses, instead of the data folder.
    let databaseURL: String?

    /// The arguments that name the store.
    var storeArguments: [String] { databaseURL.map { ["--database-url", $0] } ?? ["--data", data.path] }

    /// With `requestLog`, the server logs every request (info level) into that file, for counting round trips.
    init(bin: URL, data: URL, databaseURL: String? = nil, requestLog: URL? = nil) throws {
        self.bin = bin
        self.data = data
        self.databaseURL = databaseURL
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let out = data.appendingPathComponent("serve.out")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        process.executableURL = bin.appendingPathComponent("casebook-server")
        process.arguments = ["serve", "--port", "0", "--log-level", requestLog == nil ? "warning" : "info"]
            + (databaseURL.map { ["--database-url", $0] } ?? ["--data", data.path])
        process.standardOutput = try FileHandle(forWritingTo: out)
        if let requestLog {
            FileManager.default.createFile(atPath: requestLog.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: requestLog)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        var found: String?
        while Date() < deadline, found == nil {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            found = text.split(separator: "\n").first { $0.hasPrefix("listening on ") }.map { String($0.dropFirst("listening on ".count)) }
            if found == nil { usleep(20_000) }
        }
        guard let found else { throw BenchError("the server did not start") }
        url = found
    }

    func admin(_ arguments: [String]) throws -> Processes.Result {
        let result = try Processes.run(bin.appendingPathComponent("casebook-server"), arguments + storeArguments)
        guard result.code == 0 else { throw BenchError("casebook-server \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
        return result
    }

    var pid: Int32 { process.processIdentifier }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Fresh PostgreSQL databases for the benchmark, made with psql beside the one the URL names.
struct BenchPostgres {
    let baseURL: String
    private(set) var made: [String] = []

    /// Creates a new database and returns its URL.
    mutating func freshDatabase() throws -> String {
        let name = "casebook_bench_\(UUID().uuidString.lowercased().prefix(8))"
        guard let slash = baseURL.range(of: "/", options: .backwards) else { throw BenchError("--database-url has no database part") }
        try psql("CREATE DATABASE \(name)")
        made.append(name)
        return baseURL[..<slash.upperBound] + name
    }

    /// Drops every database this run made.
    func dropAll() {
        for name in made { try? psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    }

    private func psql(_ sql: String) throws {
        let result = try Processes.run(URL(fileURLWithPath: "/usr/bin/psql"), [baseURL, "-X", "-v", "ON_ERROR_STOP=1", "-qc", sql])
        guard result.code == 0 else { throw BenchError("psql failed (is PostgreSQL's client installed, and may the URL's user create databases?): \(result.stderr)") }
    }
}
