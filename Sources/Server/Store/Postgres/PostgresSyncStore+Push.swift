import Foundation
import Logging
import PostgresNIO
import Shared

// A push: under the project's row lock, load what the planner needs with one statement per kind of
// fact, plan in memory, and write the plan with one statement per table (arrays unnested
// server-side): each statement is a network round trip.
extension PostgresSyncStore {
    func push(project: String, changes: [Change], author: String, reader: ReadAccess, policy: PushPolicy,
              signatures: PushSignatures) async throws -> [Wire.ChangeResult] {
        // Pushes to one project run one at a time anyway (the row lock below); queueing them here
        // first keeps all but one off the pool, so they cannot starve this instance's pulls.
        try await transaction(queue: project) { db, logger in
            // The project's row lock orders pushes: numbers are read, used and committed one push at a time.
            guard let (projectID, schemaText, lastSeq) = try await db.query(
                "SELECT id, schema, last_seq FROM project WHERE name = \(project) FOR NO KEY UPDATE", logger: logger
            ).decode((Int64, String, Int64).self).collect().first else {
                throw StoreError.notFound("there is no project named '\(project)'")
            }
            let schema = try StoredSchema.decode(schemaText, project: project)
            var context = try await Self.loadContext(db, projectID: projectID, lastSeq: lastSeq, changes: changes, logger: logger)
            context.reader = reader
            context.relayedAuthors = signatures.relayedAuthors
            let planning = PushPlanner.start(changes, schema: schema, author: author, policy: policy, context: context)
            var history = FieldHistory()
            var plan = planning.finish(history: history)
            // Automatic merges of long text read stored versions: only when a batch leaves concurrent texts.
            while !plan.needs.isEmpty {
                let found = try await Self.versions(Set(plan.needs.values.joined()), db, projectID: projectID, logger: logger)
                history.loaded(plan.needs, found: found.map(\.change))
                plan = planning.finish(history: history)
            }
            try await Self.write(plan, context: context, signatures: signatures, db, projectID: projectID, project: project, logger: logger)
            try self.faults.check("push")
            return plan.results
        }
    }

    /// Loads what the planner needs for `changes`, with one statement per kind of fact.
    static func loadContext(_ db: PostgresConnection, projectID: Int64, lastSeq: Int64, changes: [Change], logger: Logger) async throws -> PushContext {
        var context = PushContext()
        context.lastSeq = lastSeq
        // Only well-formed ids can be stored (the planner refuses the rest), and PostgreSQL would
        // refuse some malformed ones (a NUL byte) with an error instead of finding nothing.
        let records = Array(Set(changes.map(\.record).filter(RecordID.isValid)))
        for try await (id, collection, access) in try await db.query(
            recordsQuery(records, projectID: projectID), logger: logger
        ).decode((String, String, String).self) {
            context.collections[id] = collection
            context.accessClasses[id] = access
        }
        if changes.contains(where: { $0.field == Change.accessField }) {
            context.groups = Set(try await db.query("SELECT name FROM team_group WHERE project_id = \(projectID)", logger: logger)
                .decode(String.self).collect())
        }
        let nodes = Array(Set(changes.map(\.hlc.node.rawValue)))
        for try await (node, author) in try await db.query(
            "SELECT node, author FROM node WHERE project_id = \(projectID) AND node = ANY(\(nodes)::text[])", logger: logger
        ).decode((String, String).self) {
            if let node = NodeID(node) { context.nodeOwners[node] = author }
        }
        // An HLC is unique in the project, whatever the record: a replica that lost its clock state
        // may reuse one for a new record, which must be refused (`id_reused`), not fail the batch.
        let allHLCs = changes.filter { RecordID.isValid($0.record) }.map(\.hlc.text)
        for row in try await rows(db.query(
            byHLC(allHLCs, projectID: projectID), logger: logger)) {
            let logged = try loggedChange(row)
            context.existing[logged.change.hlc] = logged.change
        }
        // A change can only be a parent of a stored change if its record is stored: records new
        // to the store (an import, a first sync) skip these lookups.
        let stored = changes.filter { context.collections[$0.record] != nil }
        guard !stored.isEmpty else { return context }
        let hlcs = stored.map(\.hlc.text)
        // Parents named by stored changes of the same record and field.
        var named = Set<FieldParent>()
        for try await (parent, record, field) in try await db.query(parentsQuery(hlcs, projectID: projectID), logger: logger)
            .decode((String, String, String).self) {
            if let parent = HLC(text: parent) { named.insert(FieldParent(record: record, field: field, parent: parent)) }
        }
        for change in stored where named.contains(FieldParent(record: change.record, field: change.field, parent: change.hlc)) {
            context.parentsOfStored.insert(change.hlc)
        }
        try await loadHeads(&context, db, projectID: projectID, logger: logger)
        return context
    }

    /// The current versions of every stored record the push touches.
    private static func loadHeads(_ context: inout PushContext, _ db: PostgresConnection, projectID: Int64, logger: Logger) async throws {
        let storedRecords = Array(context.collections.keys)
        for record in storedRecords { context.heads[record] = [:] }
        for try await (record, field, hlc, value, author, covers) in try await db.query(headsQuery(storedRecords, projectID: projectID), logger: logger)
            .decode((String, String, String, String, String, String?).self) {
            let version = Version(hlc: try StorageText.decodeHLC(hlc), value: try StorageText.decodeValue(value),
                                  author: author, covers: try StorageText.decodeHLCs(covers))
            context.heads[record, default: [:]][field, default: []].append(version)
        }
    }

    /// Writes a plan with one statement per table (arrays unnested server-side, not a statement per row).
    static func write(_ plan: PushPlan, context: PushContext, signatures: PushSignatures = PushSignatures(), _ db: PostgresConnection, projectID: Int64,
                      project: String, logger: Logger) async throws {
        guard let first = plan.inserts.first else { return }
        try await storeBatches(signatures.batches, db, projectID: projectID, logger: logger)
        let updates = AccessUpdate.updates(plan, stored: context.accessClasses)
        var classes = context.accessClasses
        for update in updates { classes[update.record] = update.after }
        // Read after the row lock was taken (a statement of its own, so it sees the last push's commit).
        let stored = try await chainValue(db, logger, projectID: projectID, seq: first.seq - 1)
        let links = ChainLinks(plan.inserts, project: project, after: try ChainLinks.head(stored: stored, lastSeq: first.seq - 1),
                               known: signatures.digests)
        try await appendToLog(plan.inserts, links: links.links, batchOf: signatures.batchOf, classes: classes, db, projectID: projectID, logger: logger)
        try await replaceHeads(plan, classes: classes, db, projectID: projectID, logger: logger)
        try await insertRecords(plan, classes: classes, db, projectID: projectID, logger: logger)
        try await writeAccess(updates, plan: plan, db, projectID: projectID, logger: logger)
        try await writeConflicts(plan, db, projectID: projectID, logger: logger)
        try await bindNodes(plan, db, projectID: projectID, logger: logger)
        try await db.query("UPDATE project SET last_seq = \(plan.lastSeq) WHERE id = \(projectID)", logger: logger)
    }

    /// Appends the accepted changes to the log, with the parents they supersede.
    private static func appendToLog(_ inserts: [Wire.LoggedChange], links: [ChainLinks.Link], batchOf: [HLC: String], classes: [String: String],
                                    _ db: PostgresConnection, projectID: Int64, logger: Logger) async throws {
        var seqs: [Int64] = [], hlcs: [String] = [], collections: [String] = [], records: [String] = [], fields: [String] = []
        var values: [String] = [], authors: [String] = [], bases: [String] = [], supersedes: [String] = [], covers: [String] = []
        var received: [Int64] = [], batches: [String] = [], access: [String] = [], fileHashes: [String] = [], fileRecords: [String] = []
        var parents: [String] = [], children: [String] = []
        for logged in inserts {
            let change = logged.change, stored = StoredChange(change)
            seqs.append(logged.seq)
            hlcs.append(stored.hlc)
            collections.append(stored.collection)
            records.append(stored.record)
            fields.append(stored.field)
            values.append(stored.value)
            authors.append(stored.author)
            // Arrays of optionals cannot be bound: an empty string stands for NULL (never a valid HLC).
            bases.append(stored.base ?? "")
            supersedes.append(stored.supersedes ?? "")
            covers.append(stored.covers ?? "")
            received.append(Int64(logged.receivedAt))
            batches.append(batchOf[change.hlc] ?? "")
            access.append(classes[change.record] ?? AccessRule.team)
            if case .files(let files) = change.value {
                for file in files {
                    fileHashes.append(file.sha256)
                    fileRecords.append(change.record)
                }
            }
            for parent in change.supersedes {
                parents.append(parent.text)
                children.append(change.hlc.text)
            }
        }
        try await db.query("""
            INSERT INTO change (project_id, seq, hlc, collection, record, field, value, author, base, supersedes, covers, received_at, batch, digest, chain,
                access)
            SELECT \(projectID), s, h, c, r, f, v, a, NULLIF(b, ''), NULLIF(sp, ''), NULLIF(cv, ''), ra, NULLIF(bt, ''), dg, ch, ac
            FROM unnest(\(seqs)::bigint[], \(hlcs)::text[], \(collections)::text[], \(records)::text[], \(fields)::text[],
                        \(values)::text[], \(authors)::text[], \(bases)::text[], \(supersedes)::text[], \(covers)::text[],
                        \(received)::bigint[], \(batches)::text[], \(links.map(\.digestHex))::text[], \(links.map(\.chainHex))::text[], \(access)::text[])
                 AS t(s, h, c, r, f, v, a, b, sp, cv, ra, bt, dg, ch, ac)
            """, logger: logger)
        if !fileHashes.isEmpty {
            try await db.query("""
                INSERT INTO file_record (project_id, sha256, record)
                SELECT \(projectID), s, r FROM unnest(\(fileHashes)::text[], \(fileRecords)::text[]) AS t(s, r)
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        if !parents.isEmpty {
            try await db.query("""
                INSERT INTO change_parent (project_id, parent, child)
                SELECT \(projectID), p, c FROM unnest(\(parents)::text[], \(children)::text[]) AS t(p, c)
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }

    /// Replaces the heads of every field whose heads changed.
    private static func replaceHeads(_ plan: PushPlan, classes: [String: String], _ db: PostgresConnection, projectID: Int64, logger: Logger) async throws {
        let replaced = Array(plan.replacedHeads)
        if !replaced.isEmpty {
            try await db.query("""
                DELETE FROM head WHERE project_id = \(projectID)
                AND (record, field) IN (SELECT r, f FROM unnest(\(replaced.map(\.record))::text[], \(replaced.map(\.field))::text[]) AS t(r, f))
                """, logger: logger)
        }
        var headRecords: [String] = [], headFields: [String] = [], headHLCs: [String] = [], headAccess: [String] = []
        for (key, versions) in plan.heads {
            for version in versions {
                headRecords.append(key.record)
                headFields.append(key.field)
                headHLCs.append(version.hlc.text)
                headAccess.append(classes[key.record] ?? AccessRule.team)
            }
        }
        if !headRecords.isEmpty {
            try await db.query("""
                INSERT INTO head (project_id, record, field, hlc, access)
                SELECT \(projectID), r, f, h, a
                FROM unnest(\(headRecords)::text[], \(headFields)::text[], \(headHLCs)::text[], \(headAccess)::text[]) AS t(r, f, h, a)
                """, logger: logger)
        }
    }

    /// Inserts the records new to the store.
    private static func insertRecords(_ plan: PushPlan, classes: [String: String], _ db: PostgresConnection, projectID: Int64, logger: Logger) async throws {
        if !plan.newRecords.isEmpty {
            let ids = Array(plan.newRecords.keys)
            try await db.query("""
                INSERT INTO record (project_id, id, collection, access)
                SELECT \(projectID), i, c, a
                FROM unnest(\(ids)::text[], \(ids.map { plan.newRecords[$0] ?? "" })::text[], \(ids.map { classes[$0] ?? AccessRule.team })::text[]) AS t(i, c, a)
                """, logger: logger)
        }
    }

    /// Binds the node ids this batch carried first to the author of their first change.
    private static func bindNodes(_ plan: PushPlan, _ db: PostgresConnection, projectID: Int64, logger: Logger) async throws {
        guard !plan.newNodes.isEmpty else { return }
        try await db.query("""
            INSERT INTO node (project_id, node, author)
            SELECT \(projectID), n, a FROM unnest(\(plan.newNodes.map(\.rawValue))::text[], \(plan.newNodeOwners)::text[]) AS t(n, a)
            ON CONFLICT DO NOTHING
            """, logger: logger)
    }

    /// Records the last state of every conflict the batch opened, changed or closed.
    private static func writeConflicts(_ plan: PushPlan, _ db: PostgresConnection, projectID: Int64, logger: Logger) async throws {
        if !plan.conflicts.isEmpty {
            let encoder = JSONEncoder()
            var conflictRecords: [String] = [], conflictFields: [String] = [], states: [String] = [], conflictSeqs: [Int64] = []
            for (key, state) in plan.conflicts {
                conflictRecords.append(key.record)
                conflictFields.append(key.field)
                states.append(String(decoding: try encoder.encode(state), as: UTF8.self))
                conflictSeqs.append(plan.conflictSeqs[key] ?? plan.lastSeq)
            }
            try await db.query("""
                INSERT INTO conflict (project_id, record, field, state, seq)
                SELECT \(projectID), r, f, s, q FROM unnest(\(conflictRecords)::text[], \(conflictFields)::text[], \(states)::text[], \(conflictSeqs)::bigint[]) AS t(r, f, s, q)
                ON CONFLICT (project_id, record, field) DO UPDATE SET state = excluded.state, seq = excluded.seq
                """, logger: logger)
        }
    }
}

