import Foundation
import Shared

/// What `files purge` removed (or, with `--dry-run`, would remove) from a project.
struct FilePurge: Sendable, Equatable, Encodable {
    /// One file no live record references.
    struct Item: Sendable, Equatable, Encodable {
        var sha256: String
        /// Its declared size.
        var size: Int64
        /// Whether it was complete (else an upload in progress or abandoned).
        var complete: Bool
        /// Bytes it took on the server's disk or in its database.
        var bytes: Int64
        /// The names it was attached under, from its custody log (`added` events).
        var names: [String]
    }

    var project: String
    var dryRun: Bool
    var files: [Item]
    /// Bytes freed (or that would be).
    var bytes: Int64
}

/// Which files a project's records reference, from the current versions (heads) of their fields.
///
/// A file stays while any head of any field of a live record lists it, conflicts included (every
/// competing version counts). A record is deleted when every head of its `_deleted` field is `true`
/// and no conflict on that field is open; a deleted record's files are no longer referenced, but
/// restoring the record before a purge keeps them.
enum FileReferences {
    /// The hashes some live record references, from rows a store read: the heads of fields whose
    /// value is a file list and the heads of `_deleted` (record, stored value text), and the states of
    /// the conflicts on `_deleted` (record, `Wire.ConflictState` JSON). A value that does not decode
    /// is a defect: nothing is purged rather than something referenced.
    static func live(fileHeads: [(record: String, value: String)], deletionHeads: [(record: String, value: String)],
                     deletionConflicts: [(record: String, state: String)]) throws -> Set<String> {
        var deletedHeads: [String: Bool] = [:]
        for head in deletionHeads {
            deletedHeads[head.record] = (deletedHeads[head.record] ?? true) && head.value == StorageText.encode(.bool(true))
        }
        var contested = Set<String>()
        for conflict in deletionConflicts {
            guard let state = try? JSONDecoder().decode(Wire.ConflictState.self, from: Data(conflict.state.utf8)) else {
                throw StoreDefect(description: "a conflict of record \(conflict.record) does not decode: files purge stopped, nothing removed")
            }
            if state.open { contested.insert(conflict.record) }
        }
        var live = Set<String>()
        for head in fileHeads where deletedHeads[head.record] != true || contested.contains(head.record) {
            guard case .files(let files) = try? StorageText.decodeValue(head.value) else {
                throw StoreDefect(description: "a file list of record \(head.record) does not decode: files purge stopped, nothing removed")
            }
            live.formUnion(files.map(\.sha256))
        }
        return live
    }
}
