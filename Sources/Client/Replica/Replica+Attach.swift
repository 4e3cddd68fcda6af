import Foundation
import GRDB
import Shared

/// Attaching files to a record: all or nothing. The files are read (and checked) first; then, in one
/// transaction, their content is moved into the file store, recorded, added to the record's `files`
/// field as a local edit, and an `added` custody event is written for each. If anything fails, nothing
/// of the attach remains: no stored content, no edit, no event.
extension Replica {
    /// Attaches the files at `paths` to the record `typed` (id or unique prefix), in `field` or the first
    /// `files` field of its collection. Returns the files as attached (the same content given twice is
    /// attached once). `progress` receives bytes read so far and in all.
    func attach(_ typed: String, field: String?, paths: [String], settings: ReplicaSettings,
                progress: (Int64, Int64) -> Void = { _, _ in }) throws -> [FileRef] {
        let target = try read { db in try Self.attachTarget(typed, field: field, schema: settings.schema, db) }
        // Every file is opened (and refused if it cannot be) before any is read.
        let sources = try paths.map(SourceFile.init(path:))
        files.removeAbandonedStaging()
        var imported: [(FileRef, FileStore.Imported)] = []
        defer { for (_, file) in imported { file.discard() } }
        let total = sources.reduce(Int64(0)) { $0 + 2 * $1.size }
        var before: Int64 = 0
        for source in sources {
            let earlier = imported.map(\.1.sha256)
            let file = try files.importFile(source, held: { sha256 in try earlier.contains(sha256) || self.holds(sha256, size: source.size) }) { done in
                progress(before + done, total)
            }
            before += 2 * source.size
            let name = FileRef.sanitizedName(source.path)
            imported.append((FileRef(sha256: file.sha256, name: name, size: file.size, mime: MediaType.of(name: name)), file))
        }
        // Files moved into place are no longer at their staging names: discarding them afterwards removes nothing.
        return try write { db in try record(imported, to: target, settings: settings, db) }
    }

    /// Whether the replica holds the whole content of `sha256` (recorded, and on disk at its length).
    func holds(_ sha256: String, size: Int64) throws -> Bool {
        try read { db in try FileCatalog.held(sha256, db) } == size && files.holds(sha256, size: size)
    }

    /// The record and the `files` field an attach goes to; refused before any file is read.
    private static func attachTarget(_ typed: String, field: String?, schema: Schema, _ db: Database) throws -> (RecordRef, String) {
        let record = try RecordRef.find(typed, db)
        guard record.visible else {
            throw ClientError("record \(record.id) was deleted: files cannot be attached to it (see 'casebook conflicts' if someone edited it meanwhile)")
        }
        let collection = try schema.requireCollection(record.collection)
        let fileFields = collection.fields.filter { $0.type == .files }.map(\.name)
        guard let name = field ?? fileFields.first else {
            throw ClientError("records of \(record.collection) hold no files (no field of type files in the schema)")
        }
        guard fileFields.contains(name) else {
            let known = collection.field(name) != nil
            throw ClientError("\(known ? "field '\(name)' of \(record.collection) does not hold files" : "\(record.collection) has no field '\(name)'"): use --field with one of \(fileFields.isEmpty ? "(none)" : fileFields.joined(separator: ", "))")
        }
        return (record, name)
    }

    /// In the attach's transaction: the field's new value, the content moved into place and recorded,
    /// and one `added` event per file new to the record.
    private func record(_ imported: [(FileRef, FileStore.Imported)], to target: (RecordRef, String), settings: ReplicaSettings,
                        _ db: Database) throws -> [FileRef] {
        var editor = try LocalEditor(settings: settings, db: db)
        let record = try RecordRef.find(target.0.id, db)
        let field = target.1
        var list = try FileCatalog.files(of: record, schema: settings.schema, db).filter { $0.field == field }.map(\.file)
        var attached: [(FileRef, FileStore.Imported)] = []
        for (ref, file) in imported where !attached.contains(where: { $0.0.sha256 == ref.sha256 }) { attached.append((ref, file)) }
        let new = attached.map(\.0).filter { ref in !list.contains { $0.sha256 == ref.sha256 } }
        list += new
        // The edit first: it checks the value (at most so many files) before any content moves.
        if !new.isEmpty {
            try editor.edit(record: record, values: [field: .files(list)])
            try editor.finish()
        }
        for ref in new {
            try CustodyLog.append(.added, sha256: ref.sha256, settings: settings, record: record.id, name: ref.name, size: ref.size, db)
        }
        // Last, the content: moved into place just before the transaction commits.
        for (ref, file) in attached {
            try FileCatalog.recordAttached(ref.sha256, size: ref.size, db)
            try files.commit(file)
        }
        return attached.map(\.0)
    }
}
