import Foundation
import GRDB

extension Replica {
    /// What `verify` found: the changes held, and every problem.
    struct Verification: Sendable {
        var changes: Int
        var failures: [(what: String, id: String, reason: String)]
    }

    /// Reads every page of the database (on an encrypted replica each page's authentication tag is
    /// checked as it is decrypted, so a changed byte anywhere is found) and checks SQLite's structure.
    func verify() async throws -> Verification {
        do {
            return try await read { db in
                let problems = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
                let changes = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change") ?? 0
                return Verification(changes: changes, failures: problems.prefix(100).map { ("database", Self.storeName(home), $0) })
            }
        } catch let error as DatabaseError {
            return Verification(changes: 0, failures: [("database", Self.storeName(home), error.message ?? "\(error.resultCode)")])
        }
    }

    private static func storeName(_ home: URL) -> String { home.lastPathComponent }
}
