import Foundation
import GRDB
import Shared

/// One file of a record, as `files` and `show` list it.
struct FileEntry: Sendable {
    var field: String
    var file: FileRef
    /// Who first put this file into the field, and when (from the record's history; pending edits included).
    var addedBy: String
    var addedAt: UInt64
    /// Whether this replica holds the content (else `fetch` brings it).
    var local: Bool
}

/// Reading what the replica knows of files: a record's files, a file's custody log.
extension Replica {
    /// The files of the record `typed` (id or unique prefix), field by field.
    func files(of typed: String, schema: Schema) async throws -> (record: RecordRef, files: [FileEntry]) {
        try await read { db in
            let record = try RecordRef.find(typed, db)
            return (record, try Self.fileEntries(of: record, schema: schema, db))
        }
    }

    /// The files of `record` with who added each and whether it is here.
    static func fileEntries(of record: RecordRef, schema: Schema, _ db: Database) throws -> [FileEntry] {
        let listed = try FileCatalog.files(of: record, schema: schema, db)
        guard !listed.isEmpty else { return [] }
        let history = try ReplicaQuery.log(record, db)
        return try listed.map { field, file in
            let first = history.first { entry in
                guard entry.field == field, case .files(let files) = entry.value else { return false }
                return files.contains { $0.sha256 == file.sha256 }
            }
            return FileEntry(field: field, file: file, addedBy: first?.author ?? "", addedAt: first?.at ?? 0,
                             local: try FileCatalog.held(file.sha256, db) == file.size)
        }
    }

    /// The custody log of the file `typed` names (a SHA-256 or a unique prefix), oldest first.
    func custody(of typed: String) async throws -> (sha256: String, events: [Wire.CustodyEvent]) {
        try await read { db in
            let sha256 = try FileCatalog.resolve(typed, db)
            return (sha256, try CustodyLog.events(of: sha256, db))
        }
    }

    /// The full SHA-256 `typed` names.
    func resolveFile(_ typed: String) async throws -> String {
        try await read { db in try FileCatalog.resolve(typed, db) }
    }

    /// A name for the file `sha256`: the one it was attached under (the first reference, or the
    /// `added` event), else its hash.
    func fileName(of sha256: String) async throws -> String {
        try await read { db in
            if let ref = try FileCatalog.referenced(db)[sha256] { return ref.name }
            let added = try CustodyLog.events(of: sha256, db).first { $0.event == .added && $0.name != nil }
            return added?.name.map(FileRef.sanitizedName) ?? sha256
        }
    }

    /// Writes an event for a file in its custody log, made here now (by this replica's user).
    func appendCustody(_ kind: Wire.CustodyKind, sha256: String, settings: ReplicaSettings) async throws {
        try await write { db in _ = try CustodyLog.append(kind, sha256: sha256, settings: settings, db) }
    }

    /// Writes the file `typed` names into `folder` (under `name`, or the name it was attached under),
    /// checked against its hash, and appends an `extracted` event (where to is not recorded).
    func extract(_ typed: String, to folder: URL, as name: String?, overwrite: Bool, settings: ReplicaSettings) async throws -> URL {
        let sha256 = try await resolveFile(typed)
        guard let size = try await read({ db in try FileCatalog.held(sha256, db) }) else {
            throw ClientError("this replica does not hold the content of \(sha256.prefix(12)) yet: run 'casebook fetch \(sha256.prefix(12))' first")
        }
        let stored = try StoredFile(store: files, sha256: sha256, size: size)
        let original = try await fileName(of: sha256)
        let target = try FileExtractor.extract(stored, name: name ?? original, to: folder, overwrite: overwrite)
        try await appendCustody(.extracted, sha256: sha256, settings: settings)
        return target
    }
}
