import Foundation
import GRDB
import Shared

// Schema versions (docs/protocol.md, "Schema versions") and what `project list/show` say.
extension SQLiteSyncStore {
    func replaceSchema(project: String, with schema: Schema, dryRun: Bool) async throws -> SchemaReplacement {
        try await write { db in
            let (projectID, old) = try Self.project(db, name: project)
            let evolution = SchemaEvolution(from: old, to: schema)
            let records = evolution.problems.isEmpty ? try Self.schemaRecords(db, projectID: projectID, read: evolution.fieldsToRead(old: old)) : []
            var replacement = SchemaReplacement(old: old, new: schema, evolution: evolution, records: records)
            if replacement.acceptable && !dryRun {
                try db.execute(sql: "UPDATE project SET schema = ? WHERE id = ?",
                               arguments: [String(decoding: try schema.jsonData(), as: UTF8.self), projectID])
                replacement.applied = true
            }
            return replacement
        }
    }

    /// The project's schema version, read from the stored schema without decoding all of it.
    static func schemaVersion(_ db: Database, projectID: Int64) throws -> Int? {
        try Int.fetchOne(db, sql: "SELECT json_extract(schema, '$.version') FROM project WHERE id = ?", arguments: [projectID])
    }

    /// Every record of the collections in `read` with the current values of the fields named there.
    static func schemaRecords(_ db: Database, projectID: Int64, read: [String: Set<String>]) throws -> [SchemaRecord] {
        var records: [String: SchemaRecord] = [:]
        for (collection, fields) in read {
            let rows = try Row.fetchCursor(db, sql: """
                SELECT record.id, head.field, change.value FROM record
                LEFT JOIN head ON head.record_key = record.key AND head.field IN (SELECT value FROM json_each(?))
                LEFT JOIN change ON change.project_id = record.project_id AND change.hlc = head.hlc
                WHERE record.project_id = ? AND record.collection = ?
                """, arguments: [jsonArray(fields.sorted()), projectID, collection])
            while let row = try rows.next() {
                let id: String = row[0]
                var record = records[id] ?? SchemaRecord(collection: collection, values: [:])
                if let field = row[1] as String?, let text = row[2] as String? {
                    record.values[field, default: []].append(try StorageText.decodeValue(text))
                }
                records[id] = record
            }
        }
        return Array(records.values)
    }

    func projectSummaries(name: String?) async throws -> [ProjectSummary] {
        try await read { db in
            let projects = try Row.fetchAll(db, sql: "SELECT id, name, schema FROM project WHERE ? IS NULL OR name = ? ORDER BY name", arguments: [name, name])
            if let name, projects.isEmpty { throw StoreError.notFound("there is no project named '\(name)'") }
            return try projects.map { row in
                let projectID: Int64 = row[0]
                let schema = try Schema.fromJSON(Data((row[2] as String).utf8))
                var records: [String: Int] = [:]
                for count in try Row.fetchAll(db, sql: "SELECT collection, count(*) FROM record WHERE project_id = ? GROUP BY collection", arguments: [projectID]) {
                    records[count[0]] = count[1]
                }
                let members = try Row.fetchAll(db, sql: """
                    SELECT user.name, member.role, user.revoked_at IS NOT NULL FROM member JOIN user ON user.id = member.user_id
                    WHERE member.project_id = ? ORDER BY user.name
                    """, arguments: [projectID]).map { ProjectSummary.Member(name: $0[0], role: $0[1], revoked: $0[2]) }
                let groups = try Self.groupInfos(db, projectID: projectID)
                return ProjectSummary(name: row[1], schema: schema.name, schemaVersion: schema.version, records: records, members: members, groups: groups)
            }
        }
    }
}
