import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// Replica folders on disk for the vault's tests: encrypted (with the cheapest KDF, as the suite's
/// replicas are) or plaintext, and the attacker's view of them: every byte of every file.
enum VaultFixtures {
    static let passphrase = Array("correct horse battery staple".utf8)

    static func home(_ tag: String = "vault") -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("casebook-\(tag)-\(UUID().uuidString)")
    }

    /// A test-only setting read when a key file is made: libsodium's minimum Argon2id cost.
    static func useFastKDF() { setenv("CASEBOOK_KDF", "fast", 1) }

    static func settings(user: String = "ana", project: String = "kz", server: String = "http://127.0.0.1:1") throws -> [Setting: String] {
        [.server: server, .project: project, .user: user, .role: "researcher", .node: "00000000000000a1",
         .schema: String(decoding: try Schema.upr.jsonData(), as: UTF8.self), .clockOffset: "0", .cursor: "0"]
    }

    /// A new encrypted replica in `home` and its data key.
    static func encrypted(_ home: URL, settings: [Setting: String]? = nil, token: String = "cbk_test") throws -> (Replica, DataKey) {
        useFastKDF()
        let (_, key) = try KeyFile.create(home: home, passphrase: passphrase)
        return (try Replica.create(home: home, settings: try settings ?? self.settings(), token: token, key: key), key)
    }

    /// Adds a record of `values` in one local edit; returns its id.
    static func add(_ replica: Replica, _ values: [String: FieldValue], collection: String = "incidents") throws -> String {
        let settings = try replica.settings()
        return try replica.write { db in
            var editor = try LocalEditor(settings: settings, db: db)
            let id = try editor.add(collection: collection, values: values)
            try editor.finish()
            return id
        }
    }

    static func titles(_ replica: Replica) throws -> Set<String> {
        try replica.read { db in
            Set(try ReplicaQuery.list(collection: "incidents", filters: [], db).compactMap { view -> String? in
                if case .text(let title) = view.fields["title"] { return title }
                return nil
            })
        }
    }

    /// Every regular file under `folders` (changed since `since`, when given), read whole.
    static func everyFile(under folders: [URL], since: Date? = nil) -> [(path: String, bytes: Data)] {
        var found: [(String, Data)] = []
        let keys: [URLResourceKey] = [.isRegularFileKey, .contentModificationDateKey, .fileSizeKey]
        for folder in folders {
            guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: keys, options: [], errorHandler: { _, _ in true })
            else { continue }
            for case let url as URL in walker {
                guard let values = try? url.resourceValues(forKeys: Set(keys)), values.isRegularFile == true else { continue }
                if let since, let modified = values.contentModificationDate, modified < since { continue }
                if let data = FileManager.default.contents(atPath: url.path) { found.append((url.path, data)) }
            }
        }
        return found
    }

    /// Each of `needles` found in a file under `folders`, as "needle in path".
    static func plaintext(_ needles: [String], under folders: [URL], since: Date? = nil) -> [String] {
        var hits: [String] = []
        for (path, bytes) in everyFile(under: folders, since: since) {
            for needle in needles where bytes.range(of: Data(needle.utf8)) != nil { hits.append("\(needle) in \(path)") }
        }
        return hits
    }

    /// The folders SQLite may write temporary files to.
    static var temporaryFolders: [URL] {
        let environment = ProcessInfo.processInfo.environment
        return ["/var/tmp", "/usr/tmp", "/tmp", environment["SQLITE_TMPDIR"], environment["TMPDIR"]]
            .compactMap { $0 }.map { URL(fileURLWithPath: $0) }.filter { FileManager.default.fileExists(atPath: $0.path) }
    }
}
