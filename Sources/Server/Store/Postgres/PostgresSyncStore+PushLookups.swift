import PostgresNIO

// What a push looks up before it plans: the records it touches, their current versions, and which
// of its changes stored changes name as parents. Planned like the page queries (see
// `+PageQueries`): the project is given as `(SELECT id)`, so a project the statistics have not seen
// (a bulk load into a new project) does not make an index that narrows by project alone look free,
// and each value of the list is found through its own index entry.
extension PostgresSyncStore {
    /// The collection and access class of each of `records` the store holds.
    static func recordsQuery(_ records: [String], projectID: Int64) -> PostgresQuery {
        "SELECT id, collection, access FROM record WHERE project_id = (SELECT \(projectID)::bigint) AND id = ANY(\(records)::text[])"
    }

    /// The current versions of every field of `records`: record, field, and the change's HLC, value, author and covers.
    static func headsQuery(_ records: [String], projectID: Int64) -> PostgresQuery {
        """
        SELECT head.record, head.field, change.hlc, change.value, change.author, change.covers
        FROM head JOIN change ON change.project_id = head.project_id AND change.hlc = head.hlc
        WHERE head.project_id = (SELECT \(projectID)::bigint) AND head.record = ANY(\(records)::text[])
        """
    }

    /// For each of `hlcs` a stored change names as its base or as a parent: that HLC, and the naming change's record and field.
    static func parentsQuery(_ hlcs: [String], projectID: Int64) -> PostgresQuery {
        """
        SELECT base, record, field FROM change WHERE project_id = (SELECT \(projectID)::bigint) AND base = ANY(\(hlcs)::text[])
        UNION ALL
        SELECT change_parent.parent, change.record, change.field
        FROM change_parent JOIN change ON change.project_id = change_parent.project_id AND change.hlc = change_parent.child
        WHERE change_parent.project_id = (SELECT \(projectID)::bigint) AND change_parent.parent = ANY(\(hlcs)::text[])
        """
    }
}
