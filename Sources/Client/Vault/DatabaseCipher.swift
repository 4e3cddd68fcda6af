import CCipherVFS
import Foundation
import GRDB
import SQLiteSupport
import Synchronization

/// The page cipher under an encrypted replica: a SQLite VFS (the C target `CCipherVFS`), installed
/// once as the process's default VFS, and the keys of the databases it encrypts, by path.
///
/// A database whose path has a key registered is stored sealed page by page (XChaCha20-Poly1305), and
/// so are its WAL and journal; while any key is registered, SQLite's temporary files stay in memory.
/// Every other database passes straight through, so plaintext replicas and other databases work as before.
enum DatabaseCipher {
    /// The page size and reserved bytes an encrypted database must have (the VFS refuses others).
    static let pageSize = Int(CIPHER_VFS_PAGE_SIZE)
    static let reservedBytes = Int(CIPHER_VFS_RESERVE_BYTES)

    private static let installed: Result<Void, ClientError> = {
        // `sqlite3_config` must come before SQLite starts, and registering a VFS starts it.
        SQLiteTuning.apply()
        let code = cipher_vfs_install()
        guard code == ResultCode.SQLITE_OK.rawValue else {
            return .failure(ClientError("cannot start the replica's encryption (SQLite or libsodium error \(code)): reinstall casebook"))
        }
        return .success(())
    }()

    /// Installs the VFS if not done yet; databases opened from then on go through it.
    static func install() throws {
        try installed.get()
    }

    /// How many registrations each path has: two replicas opened on one folder share its key, which is
    /// forgotten when the last forgets it.
    private static let registrations = Mutex<[String: Int]>([:])

    /// Registers `key` for the database at `databasePath`: connections opened afterwards read and
    /// write it (and its WAL and journal) encrypted. Replaces a key registered before for that path.
    /// Each `register` is balanced by a `forget`.
    static func register(databasePath: String, key: DataKey) throws {
        try install()
        try registrations.withLock { counts in
            let code = cipher_vfs_set_key(databasePath, key.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
            guard code == ResultCode.SQLITE_OK.rawValue else {
                throw ClientError("cannot register the replica's key (SQLite error \(code)): try again")
            }
            counts[databasePath, default: 0] += 1
        }
    }

    /// Forgets the key of `databasePath` (zeroed) once every `register` of it is balanced. Connections
    /// already open keep their copy until closed.
    static func forget(databasePath: String) {
        registrations.withLock { counts in
            guard let count = counts[databasePath] else { return }
            if count > 1 {
                counts[databasePath] = count - 1
            } else {
                counts[databasePath] = nil
                cipher_vfs_forget(databasePath)
            }
        }
    }

    /// The connection settings of an encrypted database: the replica's usual ones, plus the page format
    /// the cipher needs (4096-byte pages, 40 reserved bytes, asked for before WAL writes the first page),
    /// and memory-mapped I/O off (it would read around the cipher).
    static func configuration() -> Configuration {
        SQLiteTuning.configuration(setJournalToWAL: true, first: { db in
            // In this order: the page size pragma resets the requested reserve.
            try db.execute(sql: "PRAGMA page_size = \(pageSize)")
            try requestReserve(db)
            try db.execute(sql: "PRAGMA mmap_size = 0")
        })
    }

    /// Asks for the cipher's reserved bytes on `db`'s main database: effective on a new empty database
    /// (and for a `VACUUM INTO`, which copies the requested reserve); harmless otherwise.
    static func requestReserve(_ db: Database) throws {
        let code = cipher_vfs_request_reserve(db.sqliteConnection)
        guard code == ResultCode.SQLITE_OK.rawValue else { throw DatabaseError(resultCode: ResultCode(rawValue: code)) }
    }

    /// How many temporary files the VFS has kept in memory since the process started (for tests).
    static var memoryFileCount: UInt64 { cipher_vfs_memory_file_count() }
}
