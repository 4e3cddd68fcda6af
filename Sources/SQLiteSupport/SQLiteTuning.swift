import CSQLiteTuning
import GRDB

/// Process-wide SQLite settings, applied once before the process opens its first database.
package enum SQLiteTuning {
    private static let applied: Int32 = casebook_sqlite_tune()

    /// Applies the settings if SQLite is not in use yet; later calls do nothing.
    package static func apply() { _ = applied }
}

extension SQLiteTuning {
    /// The connection settings of both the replica and the embedded server store: wait up to ten
    /// seconds for a lock, `synchronous = NORMAL` under WAL, a 64 MB page cache, a checkpoint every
    /// 40 MB of WAL instead of 4 MB (far fewer fsyncs during a large sync), temporary tables in
    /// memory. `setJournalToWAL`: a `DatabaseQueue` must ask for WAL; a `DatabasePool` sets it itself.
    /// `first` runs before any of these (the encrypted replica sets its page format there, before the
    /// switch to WAL writes the first page).
    package static func configuration(setJournalToWAL: Bool, first: (@Sendable (Database) throws -> Void)? = nil) -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try first?(db)
            if setJournalToWAL { try db.execute(sql: "PRAGMA journal_mode = WAL") }
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        return configuration
    }
}
