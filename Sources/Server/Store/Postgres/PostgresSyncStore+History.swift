import Foundation
import Logging
import PostgresNIO
import Shared

// Stored versions by HLC: what automatic merges read, for a push and for `/history`.
extension PostgresSyncStore {
    func history(project: String, fields: [Wire.HistoryRequest.Field], maxBytes: Int, reader: ReadAccess) async throws -> Wire.HistoryResponse {
        try await transaction(readOnly: true) { db, logger in
            guard let (projectID, schemaText) = try await db.query(
                "SELECT id, schema FROM project WHERE name = \(project)", logger: logger
            ).decode((Int64, String).self).collect().first else {
                throw StoreError.notFound("there is no project named '\(project)'")
            }
            let schema = try StoredSchema.decode(schemaText, project: project)
            var walks: [HistoryWalk] = []
            var bytes = 0
            for field in fields where bytes < maxBytes {
                var walk = HistoryWalk(field, schema: schema)
                // A record the reader may not read has no stored versions, as one that does not exist.
                let readable = try await Self.mayRead(db, projectID: projectID, record: field.record, reader: reader, logger: logger)
                while let needs = walk.next() {
                    walk.loaded(needs, found: readable ? try await Self.versions(needs, db, projectID: projectID, logger: logger) : [])
                }
                bytes += walk.changes.reduce(0) { $0 + PageCutter.estimatedSize($1) }
                walks.append(walk)
            }
            var response = HistoryWalk.response(walks, maxBytes: maxBytes)
            (response.batches, response.unsignedUpTo) = try await Self.signatures(of: response.changes, db, projectID: projectID, logger: logger)
            return response
        }
    }

    /// The stored changes with these HLCs (any record and field), in one statement.
    static func versions(_ hlcs: Set<HLC>, _ db: PostgresConnection, projectID: Int64, logger: Logger) async throws -> [Wire.LoggedChange] {
        guard !hlcs.isEmpty else { return [] }
        let texts = hlcs.map(\.text)
        return try await rows(db.query(
            byHLC(texts, projectID: projectID), logger: logger
        )).map(loggedChange)
    }
}
