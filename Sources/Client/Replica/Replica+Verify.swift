import Foundation
import GRDB
import Shared

extension Replica {
    /// What `verify` found: the changes and files checked, and every problem.
    struct Verification: Sendable {
        var files = 0
        var changes = 0
        /// What the signature check found.
        var signatures = SignatureReport()
        var failures: [(what: String, id: String, reason: String)] = []
    }

    /// Checks everything the replica holds, offline: every page of the database (on an encrypted
    /// replica each page's authentication tag is checked as it is decrypted, so a changed byte anywhere
    /// is found) and SQLite's structure; every stored change decodes (value, HLC, parents) and holds
    /// its signature (`verifySignatures`); every file
    /// held is read whole (each sealed chunk authenticated) and hashes to its name.
    func verify() async throws -> Verification {
        var result = Verification()
        do {
            let problems = try await read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" } }
            result.failures += problems.prefix(100).map { ("database", Self.storeName(home), $0) }
            let changes = try await read { db in try Self.verifyChanges(db) }
            result.changes = changes.checked
            result.failures += changes.failures
            result.signatures = try await read { db in try Self.verifySignatures(db) }
            result.failures += result.signatures.failures
        } catch let error as DatabaseError {
            result.failures.append(("database", Self.storeName(home), error.message ?? "\(error.resultCode)"))
            return result
        }
        let held = try await read { db in try FileCatalog.allHeld(db) }
        for (sha256, size) in held {
            result.files += 1
            if let problem = verifyFile(sha256, size: size) { result.failures.append(("file", sha256, problem)) }
        }
        for name in files.unknownFiles(known: Set(held.map(\.sha256))) {
            result.failures.append(("file", name, "a stored file the replica does not list (left by an interrupted attach?): it is not used"))
        }
        return result
    }

    /// Why the stored file of `sha256` is not what it should be; nil when it reads back whole and hashes to its name.
    func verifyFile(_ sha256: String, size: Int64) -> String? {
        do {
            try StoredFile(store: files, sha256: sha256, size: size).readAll()
            return nil
        } catch let damaged as StoredFile.Damaged {
            return damaged.reason
        } catch {
            return "\(error)"
        }
    }

    /// Decodes every stored change; returns how many were checked and what failed.
    private static func verifyChanges(_ db: Database) throws -> (checked: Int, failures: [(what: String, id: String, reason: String)]) {
        var checked = 0
        var failures: [(what: String, id: String, reason: String)] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT hlc, value, base, supersedes, covers FROM change")
        while let row = try rows.next() {
            checked += 1
            let hlc: String = row["hlc"]
            do {
                _ = try StorageText.decodeHLC(hlc)
                _ = try StorageText.decodeValue(row["value"])
                if let base: String = row["base"] { _ = try StorageText.decodeHLC(base) }
                for list in [row["supersedes"], row["covers"]] as [String?] {
                    if let list { _ = try StorageText.decodeHLCs(list) }
                }
            } catch {
                if failures.count < 100 { failures.append(("change", hlc, "it no longer decodes (\(error)): the replica is damaged")) }
            }
        }
        return (checked, failures)
    }

    private static func storeName(_ home: URL) -> String { home.lastPathComponent }
}
