import Foundation
import Logging
import PostgresNIO
import Shared

// Need-to-know in the PostgreSQL store: access classes written by pushes, groups and their members.
extension PostgresSyncStore {
    /// Writes the classes a push changed (as `SQLiteSyncStore.writeAccess`).
    static func writeAccess(_ updates: [AccessUpdate], plan: PushPlan, _ db: PostgresConnection, projectID: Int64, logger: Logger) async throws {
        for update in updates {
            let (record, after) = (update.record, update.after)
            try await db.query("INSERT INTO access_class (project_id, class) VALUES (\(projectID), \(after)) ON CONFLICT DO NOTHING", logger: logger)
            try await db.query("UPDATE change SET access = \(after) WHERE project_id = \(projectID) AND record = \(record)", logger: logger)
            try await db.query("UPDATE record SET access = \(after) WHERE project_id = \(projectID) AND id = \(record)", logger: logger)
            try await db.query("UPDATE head SET access = \(after) WHERE project_id = \(projectID) AND record = \(record)", logger: logger)
            if let before = update.before {
                try await db.query("""
                    INSERT INTO access_event (project_id, seq, record, before, after) VALUES (\(projectID), \(plan.lastSeq), \(record), \(before), \(after))
                    """, logger: logger)
            }
        }
    }

    /// The project's access classes.
    static func accessClasses(_ db: PostgresConnection, projectID: Int64, logger: Logger) async throws -> [String] {
        try await db.query("SELECT class FROM access_class WHERE project_id = \(projectID)", logger: logger).decode(String.self).collect()
    }

    /// Whether `reader` may read the record (false for one that does not exist).
    static func mayRead(_ db: PostgresConnection, projectID: Int64, record: String, reader: ReadAccess, logger: Logger) async throws -> Bool {
        guard RecordID.isValid(record), let accessClass = try await db.query(
            "SELECT access FROM record WHERE project_id = \(projectID) AND id = \(record)", logger: logger).decode(String.self).collect().first
        else { return false }
        return reader.mayRead(accessClass)
    }

    func mayReadFile(project: String, sha256: String, reader: ReadAccess) async throws -> Bool {
        guard reader.groups != nil else { return true }
        let classes = try await statement { db, logger in
            try await db.query("""
                SELECT record.access FROM file_record JOIN project ON project.id = file_record.project_id
                JOIN record ON record.project_id = file_record.project_id AND record.id = file_record.record
                WHERE project.name = \(project) AND file_record.sha256 = \(sha256)
                """, logger: logger).decode(String.self).collect()
        }
        return classes.isEmpty || classes.contains(where: reader.mayRead)
    }

    // MARK: Groups

    func addGroup(project: String, name: String, now: UInt64) async throws {
        try await transaction { db, logger in
            let projectID = try await Self.projectID(db, project, logger)
            let added = try await db.query("""
                INSERT INTO team_group (project_id, name, created_at) VALUES (\(projectID), \(name), \(Int64(now))) ON CONFLICT DO NOTHING RETURNING 1
                """, logger: logger).decode(Int.self).collect()
            guard !added.isEmpty else { throw StoreError.conflict("project '\(project)' already has a group named '\(name)'") }
        }
    }

    func changeGroupMember(project: String, group: String, user: String, add: Bool) async throws {
        try await transaction { db, logger in
            // The project's row lock: the event's number is taken like a push's.
            guard let (projectID, lastSeq) = try await db.query(
                "SELECT id, last_seq FROM project WHERE name = \(project) FOR NO KEY UPDATE", logger: logger
            ).decode((Int64, Int64).self).collect().first else {
                throw StoreError.notFound("there is no project named '\(project)'")
            }
            guard try await !db.query("SELECT 1 FROM team_group WHERE project_id = \(projectID) AND name = \(group)", logger: logger)
                .decode(Int.self).collect().isEmpty else {
                throw StoreError.notFound(GroupMessages.noGroup(group, project: project))
            }
            guard let userID = try await db.query("""
                SELECT account.id FROM account JOIN member ON member.user_id = account.id WHERE account.name = \(user) AND member.project_id = \(projectID)
                """, logger: logger).decode(Int64.self).collect().first else {
                throw StoreError.notFound(GroupMessages.notMember(user, project: project))
            }
            let changed = try await db.query(add
                ? "INSERT INTO group_member (project_id, name, user_id) VALUES (\(projectID), \(group), \(userID)) ON CONFLICT DO NOTHING RETURNING 1"
                : "DELETE FROM group_member WHERE project_id = \(projectID) AND name = \(group) AND user_id = \(userID) RETURNING 1",
                logger: logger).decode(Int.self).collect()
            guard !changed.isEmpty else { return }
            let seq = lastSeq + 1
            let (before, after): (String?, String?) = add ? (nil, group) : (group, nil)
            try await db.query("UPDATE project SET last_seq = \(seq) WHERE id = \(projectID)", logger: logger)
            // An entry of the log's hash chain, chained here like a push's changes (under the same row lock).
            let head = try ChainLinks.head(stored: try await Self.chainValue(db, logger, projectID: projectID, seq: seq - 1), lastSeq: seq - 1)
            let (link, nonce) = ChainLinks.membership(of: user, group: group, joined: add, seq: seq, project: project, after: head)
            try await db.query("""
                INSERT INTO access_event (project_id, seq, user_id, before, after, nonce, digest, chain)
                VALUES (\(projectID), \(seq), \(userID), \(before), \(after), \(nonce), \(link.digestHex), \(link.chainHex))
                """, logger: logger)
        }
    }

    func groups(project: String) async throws -> [GroupInfo] {
        try await transaction(readOnly: true) { db, logger in
            try await Self.groupInfos(db, projectID: try await Self.projectID(db, project, logger), logger: logger)
        }
    }

    /// The project's groups with their members, by name.
    static func groupInfos(_ db: PostgresConnection, projectID: Int64, logger: Logger) async throws -> [GroupInfo] {
        var members: [String: [String]] = [:]
        for try await (group, user) in try await db.query("""
            SELECT group_member.name, account.name FROM group_member JOIN account ON account.id = group_member.user_id
            WHERE group_member.project_id = \(projectID) ORDER BY account.name
            """, logger: logger).decode((String, String).self) {
            members[group, default: []].append(user)
        }
        return try await db.query("SELECT name FROM team_group WHERE project_id = \(projectID) ORDER BY name", logger: logger)
            .decode(String.self).collect().map { GroupInfo(name: $0, members: members[$0] ?? []) }
    }

    /// The groups of one user in a project.
    static func groups(_ db: PostgresConnection, userID: Int64, projectID: Int64, logger: Logger) async throws -> Set<String> {
        Set(try await db.query("SELECT name FROM group_member WHERE user_id = \(userID) AND project_id = \(projectID)", logger: logger)
            .decode(String.self).collect())
    }
}

extension PostgresSyncStore {
    /// The records a pull after `after` must tell `reader` to remove or fetch whole (as the SQLite store).
    static func accessChanges(_ db: PostgresConnection, projectID: Int64, after: Int64, reader: ReadAccess, logger: Logger) async throws -> AccessChanges {
        guard let groupsNow = reader.groups, let userID = reader.userID else { return AccessChanges() }
        var events: [AccessChanges.Event] = []
        for try await (seq, record, user, before, afterClass) in try await db.query("""
            SELECT seq, record, user_id, before, after FROM access_event WHERE project_id = \(projectID) AND seq > \(after) ORDER BY seq
            """, logger: logger).decode((Int64, String?, Int64?, String?, String?).self) {
            events.append(AccessChanges.Event(seq: seq, record: record, userID: user, before: before, after: afterClass))
        }
        guard !events.isEmpty else { return AccessChanges() }
        let groupsThen = AccessChanges.groupsAtCursor(events, userID: userID, now: groupsNow)
        var classNow: [String: String] = [:]
        let named = Array(Set(events.compactMap(\.record)))
        for try await (id, access) in try await db.query(
            "SELECT id, access FROM record WHERE project_id = \(projectID) AND id = ANY(\(named)::text[])", logger: logger
        ).decode((String, String).self) {
            classNow[id] = access
        }
        let flipped = AccessChanges.flippedClasses(try await accessClasses(db, projectID: projectID, logger: logger), then: groupsThen, now: groupsNow)
        if !flipped.isEmpty {
            for try await (id, access) in try await db.query("""
                SELECT id, access FROM record WHERE project_id = \(projectID) AND access = ANY(\(flipped)::text[]) AND access <> ''
                """, logger: logger).decode((String, String).self) {
                classNow[id] = access
            }
        }
        return AccessChanges.decide(events, classNow: classNow, groupsThen: groupsThen, groupsNow: groupsNow)
    }

    func records(project: String, ids: [String], reader: ReadAccess) async throws -> Wire.RecordsResponse {
        try await transaction(readOnly: true) { db, logger in
            let projectID = try await Self.projectID(db, project, logger)
            var changes: [Wire.LoggedChange] = []
            for id in ids where try await Self.mayRead(db, projectID: projectID, record: id, reader: reader, logger: logger) {
                changes += try await Self.rows(db.query(
                    "SELECT \(unescaped: Self.changeColumns) FROM change WHERE project_id = \(projectID) AND record = \(id) ORDER BY seq", logger: logger
                )).map(Self.loggedChange)
            }
            var response = Wire.RecordsResponse(changes: changes, serverTime: 0)
            (response.batches, response.unsignedUpTo) = try await Self.signatures(of: changes, db, projectID: projectID, logger: logger)
            return response
        }
    }
}
