import Foundation
import Logging
import PostgresNIO
import Shared

// Schema versions (docs/protocol.md, "Schema versions") and what `project list/show` say, as the SQLite store.
extension PostgresSyncStore {
    func replaceSchema(project: String, with schema: Schema, dryRun: Bool) async throws -> SchemaReplacement {
        try await transaction { db, logger in
            // The project row's lock orders this against pushes, which validate under it.
            guard let (projectID, schemaText) = try await db.query(
                "SELECT id, schema FROM project WHERE name = \(project) FOR UPDATE", logger: logger
            ).decode((Int64, String).self).collect().first else {
                throw StoreError.notFound("there is no project named '\(project)'")
            }
            let old = try Schema.fromJSON(Data(schemaText.utf8))
            let evolution = SchemaEvolution(from: old, to: schema)
            let records = evolution.problems.isEmpty
                ? try await Self.schemaRecords(db, projectID: projectID, read: evolution.fieldsToRead(old: old), logger: logger) : []
            var replacement = SchemaReplacement(old: old, new: schema, evolution: evolution, records: records)
            if replacement.acceptable && !dryRun {
                let text = String(decoding: try schema.jsonData(), as: UTF8.self)
                try await db.query("UPDATE project SET schema = \(text) WHERE id = \(projectID)", logger: logger)
                replacement.applied = true
            }
            return replacement
        }
    }

    /// The project's schema version, read from the stored schema.
    static func schemaVersion(_ db: PostgresConnection, _ logger: Logger, projectID: Int64) async throws -> Int? {
        try await db.query("SELECT (schema::jsonb ->> 'version')::bigint FROM project WHERE id = \(projectID)", logger: logger)
            .decode(Int64?.self).collect().first?.flatMap { Int(exactly: $0) }
    }

    /// Every record of the collections in `read` with the current values of the fields named there.
    static func schemaRecords(_ db: PostgresConnection, projectID: Int64, read: [String: Set<String>], logger: Logger) async throws -> [SchemaRecord] {
        var records: [String: SchemaRecord] = [:]
        for (collection, fields) in read {
            let names = fields.sorted()
            for try await (id, field, text) in try await db.query("""
                SELECT record.id, head.field, change.value FROM record
                LEFT JOIN head ON head.project_id = record.project_id AND head.record = record.id AND head.field = ANY(\(names))
                LEFT JOIN change ON change.project_id = record.project_id AND change.hlc = head.hlc
                WHERE record.project_id = \(projectID) AND record.collection = \(collection)
                """, logger: logger).decode((String, String?, String?).self) {
                var record = records[id] ?? SchemaRecord(collection: collection, values: [:])
                if let field, let text { record.values[field, default: []].append(try StorageText.decodeValue(text)) }
                records[id] = record
            }
        }
        return Array(records.values)
    }

    func projectSummaries(name: String?) async throws -> [ProjectSummary] {
        try await transaction(readOnly: true) { db, logger in
            let projects = try await db.query(
                "SELECT id, name, schema FROM project WHERE \(name)::text IS NULL OR name = \(name) ORDER BY name", logger: logger
            ).decode((Int64, String, String).self).collect()
            if let name, projects.isEmpty { throw StoreError.notFound("there is no project named '\(name)'") }
            var summaries: [ProjectSummary] = []
            for (projectID, projectName, schemaText) in projects {
                let schema = try Schema.fromJSON(Data(schemaText.utf8))
                var records: [String: Int] = [:]
                for try await (collection, count) in try await db.query(
                    "SELECT collection, count(*) FROM record WHERE project_id = \(projectID) GROUP BY collection", logger: logger
                ).decode((String, Int64).self) {
                    records[collection] = Int(count)
                }
                let members = try await db.query("""
                    SELECT account.name, member.role, account.revoked_at IS NOT NULL FROM member JOIN account ON account.id = member.user_id
                    WHERE member.project_id = \(projectID) ORDER BY account.name
                    """, logger: logger).decode((String, String, Bool).self).collect().map { ProjectSummary.Member(name: $0.0, role: $0.1, revoked: $0.2) }
                let groups = try await Self.groupInfos(db, projectID: projectID, logger: logger)
                summaries.append(ProjectSummary(name: projectName, schema: schema.name, schemaVersion: schema.version,
                                                records: records, members: members, groups: groups))
            }
            return summaries
        }
    }
}
