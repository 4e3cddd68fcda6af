import Foundation
import GRDB
import Shared
import SQLiteSupport

// Stored versions by HLC: what automatic merges read, for a push and for `/history`.
extension SQLiteSyncStore {
    func history(project: String, fields: [Wire.HistoryRequest.Field], maxBytes: Int, reader: ReadAccess) async throws -> Wire.HistoryResponse {
        try await read { db in
            let (projectID, schema) = try Self.project(db, name: project)
            var walks: [HistoryWalk] = []
            var bytes = 0
            for field in fields where bytes < maxBytes {
                var walk = HistoryWalk(field, schema: schema)
                // A record the reader may not read has no stored versions, as one that does not exist.
                let readable = try Self.mayRead(db, projectID: projectID, record: field.record, reader: reader)
                while let needs = walk.next() {
                    walk.loaded(needs, found: readable ? try Self.versions(needs, db, projectID: projectID) : [])
                }
                bytes += walk.changes.reduce(0) { $0 + PageCutter.estimatedSize($1) }
                walks.append(walk)
            }
            var response = HistoryWalk.response(walks, maxBytes: maxBytes)
            (response.batches, response.unsignedUpTo) = try Self.signatures(of: response.changes, db, projectID: projectID)
            return response
        }
    }

    /// The stored changes with these HLCs (any record and field), in one statement.
    static func versions(_ hlcs: Set<HLC>, _ db: Database, projectID: Int64) throws -> [Wire.LoggedChange] {
        guard !hlcs.isEmpty else { return [] }
        return try loggedChanges(db, sql: "SELECT \(changeColumns) FROM change WHERE project_id = ? AND hlc IN (SELECT value FROM json_each(?))",
                                 arguments: [projectID, jsonArray(hlcs.map(\.text))])
    }
}
