import Foundation
import GRDBSQLite
import Shared
import SQLiteSupport

/// The physical limit the sync figures are compared with: the same field rows inserted straight
/// into SQLite in one transaction with one prepared statement, into a table with the same
/// indexes as the server's change log, in WAL mode with synchronous=NORMAL like the server.
enum Baseline {
    /// `values` makes each record's field values (by default the incidents'); `rows` is a multiple of their count.
    static func insertRate(rows: Int, folder: URL, fieldsPerRecord: Int = BenchData.fields.count,
                           values makeValues: (Int, inout BenchData.Generator) -> [(String, FieldValue)] = BenchData.record) throws -> (seconds: Double, rowsPerSecond: Double) {
        let path = folder.appendingPathComponent("baseline-\(rows).sqlite").path
        try? FileManager.default.removeItem(atPath: path)
        var db: OpaquePointer?
        // Tuned like the programs (no memory statistics, no connection mutex): the limit, not a handicap.
        SQLiteTuning.apply()
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK, let db else { throw BenchError("cannot open \(path)") }
        defer { sqlite3_close(db) }
        func exec(_ sql: String) throws {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw BenchError(String(cString: sqlite3_errmsg(db))) }
        }
        try exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
        try exec("""
            CREATE TABLE change (
                project_id INTEGER NOT NULL, seq INTEGER NOT NULL, hlc TEXT NOT NULL, collection TEXT NOT NULL,
                record TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, author TEXT NOT NULL, base TEXT,
                supersedes TEXT, covers TEXT, received_at INTEGER NOT NULL,
                UNIQUE (project_id, seq), UNIQUE (project_id, hlc));
            CREATE INDEX change_by_base ON change(project_id, base) WHERE base IS NOT NULL;
            """)
        // Rows built beforehand: the baseline measures SQLite, not string building.
        var generator = BenchData.Generator(seed: 1)
        let records = rows / fieldsPerRecord
        var values: [(String, String, String, String)] = []
        values.reserveCapacity(rows)
        var clock = HybridClock(node: NodeID("00000000000000ba")!)
        for index in 0..<records {
            let record = generator.recordID()
            for (field, value) in makeValues(index, &generator) {
                values.append((clock.tick(now: 1_700_000_000_000).text, record, field, StorageText.encode(value)))
            }
        }
        let start = ContinuousClock.now
        try exec("BEGIN")
        var statement: OpaquePointer?
        let sql = "INSERT INTO change (project_id, seq, hlc, collection, record, field, value, author, base, supersedes, covers, received_at) VALUES (1, ?, ?, 'incidents', ?, ?, ?, 'bench', NULL, NULL, NULL, 1700000000000)"
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else { throw BenchError(String(cString: sqlite3_errmsg(db))) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (index, row) in values.enumerated() {
            sqlite3_bind_int64(statement, 1, Int64(index + 1))
            sqlite3_bind_text(statement, 2, row.0, -1, transient)
            sqlite3_bind_text(statement, 3, row.1, -1, transient)
            sqlite3_bind_text(statement, 4, row.2, -1, transient)
            sqlite3_bind_text(statement, 5, row.3, -1, transient)
            guard sqlite3_step(statement) == SQLITE_DONE else { throw BenchError(String(cString: sqlite3_errmsg(db))) }
            sqlite3_reset(statement)
        }
        sqlite3_finalize(statement)
        try exec("COMMIT")
        let elapsed = ContinuousClock.now - start
        let seconds = elapsed.seconds
        try? FileManager.default.removeItem(atPath: path)
        return (seconds, Double(values.count) / seconds)
    }
}
