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
            let changes = try SQLiteSyncStore.loggedChanges(
                db, sql: "SELECT \(SQLiteSyncStore.changeColumns) FROM change WHERE project_id = ? ORDER BY seq", arguments: [projectID])
            let links = ChainLinks(changes, project: name, after: .genesis)
            for (logged, link) in zip(changes, links.links) {
                try update.execute(arguments: [link.digest, link.chain, projectID, logged.seq])
            }
        }
    }
}
