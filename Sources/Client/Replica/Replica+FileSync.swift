import Foundation
import GRDB
import Shared

/// What moving files' content and custody logs does to the replica: each step one transaction.
extension Replica {
    /// Files held here that the server is not known to hold (what a sync asks the server about).
    func filesNotOnServer() async throws -> [(sha256: String, size: Int64)] {
        try await read { db in try FileCatalog.notOnServer(db) }
    }

    /// The server holds the whole of `sha256`; `uploadedHere` adds an `uploaded` event (this replica sent its last chunk).
    func markOnServer(_ sha256: String, uploadedHere: Bool, settings: ReplicaSettings) async throws {
        try await write { db in
            try FileCatalog.markOnServer(sha256, db)
            if uploadedHere { try CustodyLog.append(.uploaded, sha256: sha256, settings: settings, db) }
        }
    }

    /// A download of `sha256` completed and was moved into place: recorded, with a `downloaded` event.
    func recordDownloaded(_ sha256: String, size: Int64, settings: ReplicaSettings) async throws {
        try await write { db in
            try FileCatalog.recordHeld(sha256, size: size, onServer: true, db)
            try CustodyLog.append(.downloaded, sha256: sha256, settings: settings, db)
        }
    }

    /// The files `typed` names that are not held here: each a record id (its files) or a SHA-256 (or a
    /// unique prefix of either); every file a record refers to when `all`.
    func filesToFetch(_ typed: [String], all: Bool, schema: Schema) async throws -> [FileRef] {
        let store = files
        return try await read { db in
            let referenced = try FileCatalog.referenced(db)
            var wanted: [FileRef] = []
            if all {
                wanted = referenced.values.sorted { $0.sha256 < $1.sha256 }
            } else {
                for text in typed { wanted += try Self.filesNamed(by: text, referenced: referenced, schema: schema, db) }
            }
            var seen = Set<String>()
            return try wanted.filter { file in
                guard seen.insert(file.sha256).inserted else { return false }
                // A stored file that went missing from the folder is fetched again.
                return try FileCatalog.held(file.sha256, db) != file.size || !store.holds(file.sha256, size: file.size)
            }
        }
    }

    /// The files one argument of `fetch` names: a record's files, or one file by hash. A prefix that
    /// could be either is refused (type more of it).
    private static func filesNamed(by typed: String, referenced: [String: FileRef], schema: Schema, _ db: Database) throws -> [FileRef] {
        let record = try? RecordRef.find(typed, db)
        let sha256 = try? FileCatalog.resolve(typed, db)
        switch (record, sha256) {
        case (.some, .some):
            throw ClientError("'\(typed)' is the start of both a record id and a file's SHA-256: type more characters")
        case (.some(let record), nil):
            return try FileCatalog.files(of: record, schema: schema, db).map(\.file)
        case (nil, .some(let sha256)):
            if let file = referenced[sha256] { return [file] }
            let added = try CustodyLog.events(of: sha256, db).first { $0.event == .added && $0.size != nil }
            guard let size = added?.size else { throw ClientError("no record here refers to \(sha256.prefix(12)): its size is unknown, so it cannot be fetched") }
            return [FileRef(sha256: sha256, name: FileRef.sanitizedName(added?.name ?? sha256), size: size, mime: FileRef.unknownMime)]
        case (nil, nil):
            throw ClientError("'\(typed)' is neither a record id nor a file's SHA-256 known to this replica (at least 6 characters of either): see 'casebook files ID'")
        }
    }

    /// Custody events made here and not yet sent, oldest first.
    func pendingCustody(limit: Int) async throws -> [Wire.CustodyEvent] {
        try await read { db in try CustodyLog.pending(limit: limit, db) }
    }

    /// The server stored these events.
    func markCustodySent(_ ids: [String]) async throws {
        try await write { db in try CustodyLog.markSent(ids, db) }
    }

    /// The position of the project's custody log pulled so far.
    func custodyCursor() async throws -> Int64 {
        try await read { db in Int64(try Setting.get(.custodyCursor, db) ?? "0") ?? 0 }
    }

    /// Stores a pulled page of the custody log and its cursor, in one transaction.
    func storePulledCustody(_ page: Wire.CustodyPage) async throws {
        try await write { db in
            try CustodyLog.storePulled(page.events, db)
            try Setting.set(.custodyCursor, String(page.cursor), db)
        }
    }
}
