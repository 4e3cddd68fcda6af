import Foundation
import GRDB
import Shared
import SQLiteSupport

extension SQLiteMigrations {
    /// Computes the digest and chain value of every stored change, project by project in sequence
    /// order, exactly as a push would have appended them.
    static func chainStoredChanges(_ db: Database) throws {
        let update = try db.makeStatement(sql: "UPDATE change SET digest = ?, chain = ? WHERE project_id = ? AND seq = ?")
        for project in try Row.fetchAll(db, sql: "SELECT id, name FROM project ORDER BY id") {
            let projectID: Int64 = project["id"], name: String = project["name"]
            var head = LogChain.genesis
            var after: Int64 = 0
            // Ten thousand at a time, so that a large log is not held in memory at once.
            while true {
                let changes = try SQLiteSyncStore.loggedChanges(
                    db, sql: "SELECT \(SQLiteSyncStore.changeColumns) FROM change WHERE project_id = ? AND seq > ? ORDER BY seq LIMIT 10000",
                    arguments: [projectID, after])
                guard let last = changes.last else { break }
                let links = ChainLinks(changes, project: name, after: head)
                for (logged, link) in zip(changes, links.links) {
                    // Hex text, as v5 first wrote it; v10 turns every stored value into its bytes.
                    try update.execute(arguments: [link.digestHex, link.chainHex, projectID, logged.seq])
                }
                (head, after) = (links.head, last.seq)
            }
        }
    }

    /// Turns the hex text of every stored digest and chain value into its bytes (v10).
    static func chainValuesAsBytes(_ db: Database) throws {
        // SQLite 3.40 has no unhex(): a function of our own, for the one statement per table.
        db.add(function: DatabaseFunction("casebook_unhex", argumentCount: 1, pure: true) { values in
            if values[0].isNull { return nil }
            guard let text = String.fromDatabaseValue(values[0]), text.utf8.count == 64, let bytes = Hex.decode(text) else {
                throw StoreDefect(description: "a stored digest or chain value is not 64 hex digits: restore the store from a backup")
            }
            return Data(bytes)
        })
        for table in ["change", "access_event"] {
            try db.execute(sql: """
                UPDATE \(table) SET digest = casebook_unhex(digest), chain = casebook_unhex(chain)
                WHERE typeof(digest) = 'text' OR typeof(chain) = 'text'
                """)
        }
    }
}
