import Foundation
import GRDB
import Shared

// Need-to-know in the embedded store: access classes written by pushes, groups and their members.
extension SQLiteSyncStore {
    /// Writes the classes a push changed: on the record, its heads and its whole history (so a read
    /// filters by class with an index), the class list, and an event for each stored record whose
    /// class changed (a later pull removes or brings back the record for whoever that concerns).
    static func writeAccess(_ updates: [AccessUpdate], plan: PushPlan, _ db: Database, projectID: Int64) throws {
        for update in updates {
            try db.execute(sql: "INSERT OR IGNORE INTO access_class (project_id, class) VALUES (?, ?)", arguments: [projectID, update.after])
            try db.execute(sql: """
                UPDATE change SET access = ? WHERE record_key = (SELECT key FROM record WHERE project_id = ? AND id = ?)
                """, arguments: [update.after, projectID, update.record])
            try db.execute(sql: "UPDATE record SET access = ? WHERE project_id = ? AND id = ?", arguments: [update.after, projectID, update.record])
            try db.execute(sql: """
                UPDATE head SET access = ? WHERE record_key = (SELECT key FROM record WHERE project_id = ? AND id = ?)
                """, arguments: [update.after, projectID, update.record])
            if let before = update.before {
                try db.execute(sql: "INSERT INTO access_event (project_id, seq, record, before, after) VALUES (?, ?, ?, ?, ?)",
                               arguments: [projectID, plan.lastSeq, update.record, before, update.after])
            }
        }
    }

    /// The project's access classes (the team's among them).
    static func accessClasses(_ db: Database, projectID: Int64) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT class FROM access_class WHERE project_id = ?", arguments: [projectID])
    }

    /// The groups of one user in a project.
    static func groups(_ db: Database, userID: Int64, projectID: Int64) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT name FROM group_member WHERE user_id = ? AND project_id = ?", arguments: [userID, projectID]))
    }

    /// Whether `reader` may read the record (false for one that does not exist).
    static func mayRead(_ db: Database, projectID: Int64, record: String, reader: ReadAccess) throws -> Bool {
        guard let accessClass = try String.fetchOne(db, sql: "SELECT access FROM record WHERE project_id = ? AND id = ?", arguments: [projectID, record])
        else { return false }
        return reader.mayRead(accessClass)
    }

    // MARK: Groups

    func addGroup(project: String, name: String, now: UInt64) async throws {
        try await write { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            try db.execute(sql: "INSERT OR IGNORE INTO team_group (project_id, name, created_at) VALUES (?, ?, ?)", arguments: [projectID, name, now])
            guard db.changesCount == 1 else { throw StoreError.conflict("project '\(project)' already has a group named '\(name)'") }
        }
    }

    func changeGroupMember(project: String, group: String, user: String, add: Bool) async throws {
        try await write { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM team_group WHERE project_id = ? AND name = ?", arguments: [projectID, group]) == true else {
                throw StoreError.notFound(GroupMessages.noGroup(group, project: project))
            }
            guard let userID = try Int64.fetchOne(db, sql: """
                SELECT user.id FROM user JOIN member ON member.user_id = user.id WHERE user.name = ? AND member.project_id = ?
                """, arguments: [user, projectID]) else {
                throw StoreError.notFound(GroupMessages.notMember(user, project: project))
            }
            if add {
                try db.execute(sql: "INSERT OR IGNORE INTO group_member (project_id, name, user_id) VALUES (?, ?, ?)", arguments: [projectID, group, userID])
            } else {
                try db.execute(sql: "DELETE FROM group_member WHERE project_id = ? AND name = ? AND user_id = ?", arguments: [projectID, group, userID])
            }
            guard db.changesCount == 1 else { return }
            // A step of the project's sequence, so every replica's next pull sees the change of membership.
            let seq = (try Int64.fetchOne(db, sql: "SELECT last_seq FROM project WHERE id = ?", arguments: [projectID]) ?? 0) + 1
            try db.execute(sql: "UPDATE project SET last_seq = ? WHERE id = ?", arguments: [seq, projectID])
            // An entry of the log's hash chain, chained here like a push's changes (under the same single writer).
            let head = try ChainLinks.head(stored: try Self.chainValue(db, projectID: projectID, seq: seq - 1), lastSeq: seq - 1)
            let (link, nonce) = ChainLinks.membership(of: user, group: group, joined: add, seq: seq, project: project, after: head)
            try db.execute(sql: """
                INSERT INTO access_event (project_id, seq, user_id, before, after, nonce, digest, chain) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [projectID, seq, userID, add ? nil : group, add ? group : nil, nonce, Data(link.digest.bytes), Data(link.chain.bytes)])
        }
    }

    func groups(project: String) async throws -> [GroupInfo] {
        try await read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            return try Self.groupInfos(db, projectID: projectID)
        }
    }

    /// The project's groups with their members, by name.
    static func groupInfos(_ db: Database, projectID: Int64) throws -> [GroupInfo] {
        var members: [String: [String]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT group_member.name, user.name FROM group_member JOIN user ON user.id = group_member.user_id
            WHERE group_member.project_id = ? ORDER BY user.name
            """, arguments: [projectID]) {
            members[row[0], default: []].append(row[1])
        }
        return try String.fetchAll(db, sql: "SELECT name FROM team_group WHERE project_id = ? ORDER BY name", arguments: [projectID])
            .map { GroupInfo(name: $0, members: members[$0] ?? []) }
    }
}

extension SQLiteSyncStore {
    func mayReadFile(project: String, sha256: String, reader: ReadAccess) async throws -> Bool {
        guard reader.groups != nil else { return true }
        return try await read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            let classes = try String.fetchAll(db, sql: """
                SELECT record.access FROM file_record JOIN record ON record.project_id = file_record.project_id AND record.id = file_record.record
                WHERE file_record.project_id = ? AND file_record.sha256 = ?
                """, arguments: [projectID, sha256])
            return classes.isEmpty || classes.contains(where: reader.mayRead)
        }
    }
}

extension SQLiteSyncStore {
    /// The records a pull after `after` must tell `reader` (user `userID`) to remove or fetch whole.
    /// Nothing for a reader of everything; one indexed look at the events after the cursor otherwise.
    static func accessChanges(_ db: Database, projectID: Int64, after: Int64, reader: ReadAccess) throws -> AccessChanges {
        guard let groupsNow = reader.groups, let userID = reader.userID else { return AccessChanges() }
        let events = try Row.fetchAll(db, sql: """
            SELECT seq, record, user_id, before, after FROM access_event WHERE project_id = ? AND seq > ? ORDER BY seq
            """, arguments: [projectID, after]).map {
            AccessChanges.Event(seq: $0[0], record: $0[1], userID: $0[2], before: $0[3], after: $0[4])
        }
        guard !events.isEmpty else { return AccessChanges() }
        let groupsThen = AccessChanges.groupsAtCursor(events, userID: userID, now: groupsNow)
        var classNow: [String: String] = [:]
        let named = Array(Set(events.compactMap(\.record)))
        for row in try Row.fetchAll(db, sql: "SELECT id, access FROM record WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))",
                                    arguments: [projectID, jsonArray(named)]) {
            classNow[row[0]] = row[1] as String
        }
        for flipped in AccessChanges.flippedClasses(try accessClasses(db, projectID: projectID), then: groupsThen, now: groupsNow) {
            for id in try String.fetchAll(db, sql: "SELECT id FROM record WHERE project_id = ? AND access = ? AND access <> ''",
                                          arguments: [projectID, flipped]) {
                classNow[id] = flipped
            }
        }
        return AccessChanges.decide(events, classNow: classNow, groupsThen: groupsThen, groupsNow: groupsNow)
    }

    func records(project: String, ids: [String], reader: ReadAccess) async throws -> Wire.RecordsResponse {
        try await read { db in
            let (projectID, _) = try Self.project(db, name: project, loadSchema: false)
            var changes: [Wire.LoggedChange] = []
            for id in ids where try Self.mayRead(db, projectID: projectID, record: id, reader: reader) {
                changes += try Self.loggedChanges(db, sql: """
                    SELECT \(Self.changeColumns) FROM change WHERE record_key = (SELECT key FROM record WHERE project_id = ? AND id = ?) ORDER BY seq
                    """, arguments: [projectID, id])
            }
            var response = Wire.RecordsResponse(changes: changes, serverTime: 0)
            (response.batches, response.unsignedUpTo) = try Self.signatures(of: changes, db, projectID: projectID)
            return response
        }
    }
}
