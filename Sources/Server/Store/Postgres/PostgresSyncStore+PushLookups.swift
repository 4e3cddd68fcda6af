import PostgresNIO

// What a push looks up before it plans: the records it touches, their current versions, and which
// of its changes stored changes name as parents. Planned like the page queries (see
// `+PageQueries`): the project is given as `(SELECT id)`, so a project the statistics have not seen
// (a bulk load into a new project, or tables never analysed) does not make an index that narrows by
// project alone look free, and each value of the list is found through its own index entry (a
// lateral probe per value: `LIMIT 1` where the key is unique, `OFFSET 0` to keep it a probe).
extension PostgresSyncStore {
    /// The collection and access class of each of `records` the store holds.
    static func recordsQuery(_ records: [String], projectID: Int64) -> PostgresQuery {
        """
        SELECT r.id, r.collection, r.access FROM unnest(\(records)::text[]) AS k(id) CROSS JOIN LATERAL (
            SELECT id, collection, access FROM record WHERE project_id = (SELECT \(projectID)::bigint) AND id = k.id LIMIT 1) AS r
        """
    }

    /// The current versions of every field of `records`: record, field, and the change's HLC, value, author and covers.
    static func headsQuery(_ records: [String], projectID: Int64) -> PostgresQuery {
        """
        SELECT h.record, h.field, c.hlc, c.value, c.author, c.covers FROM unnest(\(records)::text[]) AS k(record)
        CROSS JOIN LATERAL (
            SELECT record, field, hlc FROM head WHERE project_id = (SELECT \(projectID)::bigint) AND record = k.record OFFSET 0) AS h
        CROSS JOIN LATERAL (
            SELECT hlc, value, author, covers FROM change WHERE project_id = (SELECT \(projectID)::bigint) AND hlc = h.hlc LIMIT 1) AS c
        """
    }

    /// For each of `hlcs` a stored change names as its base or as a parent: that HLC, and the naming change's record and field.
    static func parentsQuery(_ hlcs: [String], projectID: Int64) -> PostgresQuery {
        """
        SELECT b.base, b.record, b.field FROM unnest(\(hlcs)::text[]) AS k(hlc) CROSS JOIN LATERAL (
            SELECT base, record, field FROM change WHERE project_id = (SELECT \(projectID)::bigint) AND base = k.hlc OFFSET 0) AS b
        UNION ALL
        SELECT p.parent, c.record, c.field FROM unnest(\(hlcs)::text[]) AS k(hlc)
        CROSS JOIN LATERAL (
            SELECT parent, child FROM change_parent WHERE project_id = (SELECT \(projectID)::bigint) AND parent = k.hlc OFFSET 0) AS p
        CROSS JOIN LATERAL (
            SELECT record, field FROM change WHERE project_id = (SELECT \(projectID)::bigint) AND hlc = p.child LIMIT 1) AS c
        """
    }
}
