import Foundation
import GRDB
import Shared
import SQLiteSupport

// A push: load what the planner needs, plan in memory, write the plan, in one write transaction.
// The statements run once per change are prepared once (cached) and bound straight through
// SQLite's C interface (`SQLiteSupport`).
extension SQLiteSyncStore {
    func push(project: String, changes: [Change], author: String, reader: ReadAccess, policy: PushPolicy,
              signatures: PushSignatures) async throws -> [Wire.ChangeResult] {
        try await write { db in
            let (projectID, schema) = try Self.project(db, name: project)
            var context = try Self.loadContext(db, projectID: projectID, changes: changes)
            context.reader = reader
            context.relayedAuthors = signatures.relayedAuthors
            let planning = PushPlanner.start(changes, schema: schema, author: author, policy: policy, context: context)
            var history = FieldHistory()
            var plan = planning.finish(history: history)
            // Automatic merges of long text read stored versions: only when a batch leaves concurrent texts.
            while !plan.needs.isEmpty {
                history.loaded(plan.needs, found: try Self.versions(Set(plan.needs.values.joined()), db, projectID: projectID).map(\.change))
                plan = planning.finish(history: history)
            }
            try Self.write(plan, context: context, signatures: signatures, db, projectID: projectID, project: project)
            try self.faults.check("push")
            return plan.results
        }
    }

    /// Loads what the planner needs for `changes`.
    static func loadContext(_ db: Database, projectID: Int64, changes: [Change]) throws -> PushContext {
        var context = PushContext()
        context.lastSeq = try Int64.fetchOne(db, sql: "SELECT last_seq FROM project WHERE id = ?", arguments: [projectID]) ?? 0
        // Every batch HLC already stored, in one statement: SQLite probes the index for each
        // (a JSON array of the HLCs), without a round trip through Swift per change.
        let byHLC = try db.cachedStatement(sql: """
            SELECT \(changeColumns) FROM change WHERE project_id = ? AND hlc IN (SELECT value FROM json_each(?))
            """)
        // By the base's index: the record's index (need-to-know) would read every change of the record.
        let childByBase = try db.cachedStatement(sql: """
            SELECT 1 FROM change INDEXED BY change_by_base WHERE project_id = ? AND base = ? AND record = ? AND field = ? LIMIT 1
            """)
        let childByParent = try db.cachedStatement(sql: """
            SELECT 1 FROM change_parent JOIN change ON change.project_id = change_parent.project_id AND change.hlc = change_parent.child
            WHERE change_parent.project_id = ? AND change_parent.parent = ? AND change.record = ? AND change.field = ? LIMIT 1
            """)
        let collections = try db.cachedStatement(sql: """
            SELECT id, collection, access FROM record WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))
            """)
        for row in try Row.fetchAll(collections, arguments: [projectID, jsonArray(Array(Set(changes.map(\.record))))]) {
            context.collections[row[0]] = row[1] as String
            context.accessClasses[row[0]] = row[2] as String
        }
        if changes.contains(where: { $0.field == Change.accessField }) {
            context.groups = Set(try String.fetchAll(db, sql: "SELECT name FROM team_group WHERE project_id = ?", arguments: [projectID]))
        }
        let owners = try db.cachedStatement(sql: "SELECT node, author FROM node WHERE project_id = ? AND node IN (SELECT value FROM json_each(?))")
        for row in try Row.fetchAll(owners, arguments: [projectID, jsonArray(Array(Set(changes.map(\.hlc.node.rawValue))))]) {
            if let node = NodeID(row[0] as String) { context.nodeOwners[node] = row[1] as String }
        }
        // An HLC is unique in the project, whatever the record: a replica that lost its clock
        // state may reuse one for a new record, which must be refused (`id_reused`), not crash
        // the batch on the unique index.
        let stored = try byHLC.fetchRaw({ row in
            row.integer(projectID)
            row.text(jsonArray(changes.map(\.hlc.text)))
        }, row: { try loggedChange($0).change })
        for change in stored { context.existing[change.hlc] = change }
        for change in changes {
            let hlc = change.hlc.text
            // A change can only be a parent of a stored change if its record is stored: records
            // new to the store (an import, a first sync) skip these lookups.
            guard context.collections[change.record] != nil else { continue }
            let key: StatementArguments = [projectID, hlc, change.record, change.field]
            if try Bool.fetchOne(childByBase, arguments: key) == true || Bool.fetchOne(childByParent, arguments: key) == true {
                context.parentsOfStored.insert(change.hlc)
            }
        }
        try loadHeads(&context, db, projectID: projectID)
        return context
    }

    /// The current versions of every stored record the push touches.
    private static func loadHeads(_ context: inout PushContext, _ db: Database, projectID: Int64) throws {
        let heads = try db.cachedStatement(sql: """
            SELECT head.field, change.hlc, change.value, change.author, change.covers
            FROM record JOIN head ON head.record_key = record.key
            JOIN change ON change.project_id = head.project_id AND change.hlc = head.hlc
            WHERE record.project_id = ? AND record.id = ?
            """)
        for record in context.collections.keys {
            var fields: [String: [Version]] = [:]
            for row in try Row.fetchAll(heads, arguments: [projectID, record]) {
                fields[row["field"], default: []].append(try version(row))
            }
            context.heads[record] = fields
        }
    }

    /// A JSON array of strings, for `json_each`.
    static func jsonArray(_ items: [String]) -> String {
        var writer = FastJSONWriter(capacity: items.count * 40 + 2)
        writer.stringArray(items)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Writes a plan: stores the push's signed batches, appends to the log (chained on from its last
    /// entry), records new records, replaces heads, writes access classes, records conflicts.
    static func write(_ plan: PushPlan, context: PushContext, signatures: PushSignatures = PushSignatures(), _ db: Database, projectID: Int64,
                      project: String) throws {
        guard let first = plan.inserts.first else { return }
        try storeBatches(signatures.batches, db, projectID: projectID)
        let updates = AccessUpdate.updates(plan, stored: context.accessClasses)
        var classes = context.accessClasses
        for update in updates { classes[update.record] = update.after }
        let stored = try chainValue(db, projectID: projectID, seq: first.seq - 1)
        let links = ChainLinks(plan.inserts, project: project, after: try ChainLinks.head(stored: stored, lastSeq: first.seq - 1),
                               known: signatures.digests)
        let recordKeys = try insertRecords(plan, classes: classes, db, projectID: projectID)
        try appendToLog(plan.inserts, links: links.links, batchOf: signatures.batchOf, classes: classes, recordKeys: recordKeys, db,
                        projectID: projectID)
        try writeHeads(plan, recordKeys: recordKeys, classes: classes, db, projectID: projectID)
        try writeAccess(updates, plan: plan, db, projectID: projectID)
        try writeConflicts(plan, db, projectID: projectID)
        let bindNode = try db.cachedStatement(sql: "INSERT OR IGNORE INTO node (project_id, node, author) VALUES (?, ?, ?)")
        for (node, owner) in zip(plan.newNodes, plan.newNodeOwners) {
            try bindNode.execute(arguments: [projectID, node.rawValue, owner])
        }
        try db.execute(sql: "UPDATE project SET last_seq = ? WHERE id = ?", arguments: [plan.lastSeq, projectID])
    }

    /// Appends the accepted changes to the log, with the parents they supersede.
    private static func appendToLog(_ inserts: [Wire.LoggedChange], links: [ChainLinks.Link], batchOf: [HLC: String], classes: [String: String],
                                    recordKeys: [String: Int64], _ db: Database, projectID: Int64) throws {
        let insertChange = try db.cachedStatement(sql: """
            INSERT INTO change (project_id, seq, hlc, collection, record, field, value, author, base, supersedes, covers, received_at, batch, digest, chain,
                access, record_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let insertFile = try db.cachedStatement(sql: "INSERT OR IGNORE INTO file_record (project_id, sha256, record) VALUES (?, ?, ?)")
        let insertParent = try db.cachedStatement(sql: "INSERT OR IGNORE INTO change_parent (project_id, parent, child) VALUES (?, ?, ?)")
        for (logged, link) in zip(inserts, links) {
            let change = logged.change
            guard let recordKey = recordKeys[change.record] else { throw StoreDefect(description: "record \(change.record) has a change but no record row") }
            try insertChange.executeRaw { row in
                row.integer(projectID)
                row.integer(logged.seq)
                row.change(StoredChange(change))
                row.integer(Int64(bitPattern: logged.receivedAt))
                row.text(batchOf[change.hlc])
                row.blob(link.digest.bytes)
                row.blob(link.chain.bytes)
                row.text(classes[change.record] ?? AccessRule.team)
                row.integer(recordKey)
            }
            if case .files(let files) = change.value {
                for file in files { try insertFile.execute(arguments: [projectID, file.sha256, change.record]) }
            }
            for parent in change.supersedes {
                try insertParent.execute(arguments: [projectID, parent.text, change.hlc.text])
            }
        }
    }

    /// Inserts the plan's new records and returns the local key of every record its changes and heads name.
    private static func insertRecords(_ plan: PushPlan, classes: [String: String], _ db: Database, projectID: Int64) throws -> [String: Int64] {
        // New records first, in the order they arrived (their keys follow it), then the keys of the stored ones.
        let insertRecord = try db.cachedStatement(sql: "INSERT INTO record (project_id, id, collection, access) VALUES (?, ?, ?, ?)")
        var recordKeys: [String: Int64] = [:]
        for logged in plan.inserts {
            let record = logged.change.record
            guard recordKeys[record] == nil, let collection = plan.newRecords[record] else { continue }
            try insertRecord.executeRaw { row in
                row.integer(projectID)
                row.text(record)
                row.text(collection)
                row.text(classes[record] ?? AccessRule.team)
            }
            recordKeys[record] = db.lastInsertedRowID
        }
        let stored = Set(plan.heads.keys.map(\.record)).union(plan.inserts.lazy.map(\.change.record)).subtracting(recordKeys.keys)
        if !stored.isEmpty {
            let keys = try db.cachedStatement(sql: "SELECT id, key FROM record WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))")
            for (id, key) in try keys.fetchRaw({ row in
                row.integer(projectID)
                row.text(jsonArray(Array(stored)))
            }, row: { ($0.text(0), $0.integer(1)) }) {
                recordKeys[id] = key
            }
        }
        return recordKeys
    }

    /// Replaces the heads of every field whose heads changed.
    private static func writeHeads(_ plan: PushPlan, recordKeys: [String: Int64], classes: [String: String], _ db: Database, projectID: Int64) throws {
        let deleteHeads = try db.cachedStatement(sql: "DELETE FROM head WHERE record_key = ? AND field = ?")
        let insertHead = try db.cachedStatement(sql: "INSERT INTO head (project_id, record_key, field, hlc, access) VALUES (?, ?, ?, ?, ?)")
        for (key, versions) in plan.heads {
            guard let recordKey = recordKeys[key.record] else { throw StoreDefect(description: "record \(key.record) has field versions but no record row") }
            if plan.replacedHeads.contains(key) {
                try deleteHeads.executeRaw { row in
                    row.integer(recordKey)
                    row.text(key.field)
                }
            }
            for version in versions {
                try insertHead.executeRaw { row in
                    row.integer(projectID)
                    row.integer(recordKey)
                    row.text(key.field)
                    row.text(version.hlc.text)
                    row.text(classes[key.record] ?? AccessRule.team)
                }
            }
        }
    }

    /// Records the last state of every conflict the batch opened, changed or closed.
    private static func writeConflicts(_ plan: PushPlan, _ db: Database, projectID: Int64) throws {
        let encoder = JSONEncoder()
        let upsertConflict = try db.cachedStatement(sql: """
            INSERT INTO conflict (project_id, record, field, state, seq) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (project_id, record, field) DO UPDATE SET state = excluded.state, seq = excluded.seq
            """)
        for (key, state) in plan.conflicts {
            try upsertConflict.execute(arguments: [
                projectID, key.record, key.field, String(decoding: try encoder.encode(state), as: UTF8.self), plan.conflictSeqs[key] ?? plan.lastSeq,
            ])
        }
    }
}
