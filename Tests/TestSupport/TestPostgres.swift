import Foundation
// Only test builds have Testing; `swift build` (which builds this target too) must still work.
#if canImport(Testing)
import Testing
#endif

/// Which store a parameterised test runs on.
public enum StoreKind: String, CaseIterable, Sendable {
    case sqlite, postgres
}

#if canImport(Testing)
extension StoreKind: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}
#endif

/// PostgreSQL for tests: `CASEBOOK_TEST_DATABASE_URL` names a database whose user may create
/// databases (`.ci/run` starts such a cluster with scripts/postgres.sh). Each test gets a database
/// of its own, dropped afterwards.
public enum TestPostgres {
    public static let baseURL: String? = ProcessInfo.processInfo.environment["CASEBOOK_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }

    public static let skipReason = """
        skipped on PostgreSQL: CASEBOOK_TEST_DATABASE_URL is not set (.ci/run sets it; to run these tests here, \
        start a cluster with 'scripts/postgres.sh start /tmp/casebook-pg 55432 --fast' and export the URL it prints)
        """

    #if canImport(Testing)
    /// Says once per run, as a warning in the test output, why the PostgreSQL cases are skipped.
    private static let warning: Void = { Issue.record(Comment(rawValue: skipReason), severity: .warning) }()

    /// Cancels the running test case (reported as skipped), after saying why once per run.
    static func skip() throws -> Never {
        _ = warning
        try Test.cancel(Comment(rawValue: skipReason))
    }
    #else
    static func skip() throws -> Never { throw PSQLFailed(message: skipReason) }
    #endif

    /// A fresh database, made with psql.
    public struct Database: Sendable {
        public let name: String
        public let url: String
        private let base: String

        /// Creates the database, or cancels the running test (a skip, with the reason) when no cluster is configured.
        public init() throws {
            guard let base = TestPostgres.baseURL else { try TestPostgres.skip() }
            self.base = base
            name = "casebook_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            guard let slash = base.range(of: "/", options: .backwards) else {
                throw PSQLFailed(message: "CASEBOOK_TEST_DATABASE_URL has no database part")
            }
            url = base[..<slash.upperBound] + name
            _ = try TestPostgres.psql(base, "CREATE DATABASE \(name)")
        }

        /// Runs SQL in this database; returns psql's unaligned output.
        public func psql(_ sql: String) throws -> String { try TestPostgres.psql(url, sql) }

        /// Drops the database in the background (FORCE closes the connections a pool may still hold).
        public func drop() {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
            process.arguments = [base, "-qc", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try? process.run()
        }
    }

    /// Runs one statement with psql and returns its output (tuples only, unaligned).
    public static func psql(_ url: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [url, "-X", "-v", "ON_ERROR_STOP=1", "-qtAc", sql]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PSQLFailed(message: String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }

    public struct PSQLFailed: Error, CustomStringConvertible {
        public let message: String
        public var description: String { "psql failed: \(message)" }
    }
}

extension Data {
    /// Bytes from hexadecimal text (two digits per byte).
    public init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), next > index {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        self.init(bytes)
    }
}
