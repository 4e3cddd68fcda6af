import GRDB
import GRDBSQLite
import Shared

/// Text, integer and NULL parameters bound straight to SQLite, for the few statements a sync
/// executes once per change (hundreds of thousands of times in an initial pull), where building
/// GRDB's `StatementArguments` for each row costs more than SQLite's own work for it.
package struct RawParameters {
    fileprivate let statement: OpaquePointer
    fileprivate var index: Int32 = 1

    package mutating func text(_ value: String) {
        var value = value
        let statement = self.statement, position = self.index
        value.withUTF8 { bytes in
            if let base = bytes.baseAddress {
                base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    _ = sqlite3_bind_text(statement, position, $0, Int32(bytes.count), RawParameters.transient)
                }
            } else {
                _ = sqlite3_bind_text(statement, position, "", 0, RawParameters.transient)
            }
        }
        index += 1
    }

    package mutating func text(_ value: String?) {
        if let value { text(value) } else { null() }
    }

    /// A change's nine stored columns, in the order every `change` table lists them:
    /// hlc, collection, record, field, value, author, base, supersedes, covers.
    package mutating func change(_ stored: StoredChange) {
        text(stored.hlc)
        text(stored.collection)
        text(stored.record)
        text(stored.field)
        text(stored.value)
        text(stored.author)
        text(stored.base)
        text(stored.supersedes)
        text(stored.covers)
    }

    /// Bytes, copied by SQLite.
    package mutating func blob(_ bytes: [UInt8]) {
        let statement = self.statement, position = self.index
        bytes.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(statement, position, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), RawParameters.transient)
        }
        index += 1
    }

    package mutating func integer(_ value: Int64) {
        sqlite3_bind_int64(statement, index, value)
        index += 1
    }

    package mutating func null() {
        sqlite3_bind_null(statement, index)
        index += 1
    }

    /// SQLite copies the bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

extension Statement {
    /// Binds the parameters `bind` gives, in order, and runs the statement once (an INSERT, UPDATE or DELETE).
    package func executeRaw(_ bind: (inout RawParameters) -> Void) throws {
        let handle = sqliteStatement
        sqlite3_reset(handle)
        var parameters = RawParameters(statement: handle)
        bind(&parameters)
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            let message = sqlite3_errmsg(sqlite3_db_handle(handle)).map { String(cString: $0) }
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
        }
        sqlite3_reset(handle)
    }
}

/// One result row read straight from SQLite, by column position.
package struct RawRow {
    fileprivate let statement: OpaquePointer

    package func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    package func optionalText(_ column: Int32) -> String? {
        sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : text(column)
    }

    package func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

    package func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

    /// A blob's bytes; nil when the column holds anything else (text, a number or NULL).
    package func blob(_ column: Int32) -> [UInt8]? {
        guard sqlite3_column_type(statement, column) == SQLITE_BLOB else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }
}

extension Statement {
    /// Binds the parameters `bind` gives, runs the query and maps every row with `row`, reading
    /// columns by position straight from SQLite (for the queries a sync runs per change or per batch).
    package func fetchRaw<T>(_ bind: (inout RawParameters) -> Void = { _ in }, row: (RawRow) throws -> T) throws -> [T] {
        let handle = sqliteStatement
        sqlite3_reset(handle)
        var parameters = RawParameters(statement: handle)
        bind(&parameters)
        defer { sqlite3_reset(handle) }
        var rows: [T] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else {
                let message = sqlite3_errmsg(sqlite3_db_handle(handle)).map { String(cString: $0) }
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
            }
            rows.append(try row(RawRow(statement: handle)))
        }
    }
}

/// An INSERT of many rows per statement, for the tables a write fills several rows at a time (a record's values and
/// search keys, an import's outbox entries): one statement of k rows costs SQLite less than k statements of one
/// row (its program is started, and its table's cursors opened, once). Each statement holds at most `maxRows` rows.
package struct RowsInsert: Sendable {
    /// The statements of 1 to `maxRows` rows.
    private let statements: [String]

    /// `head` is the statement up to its `VALUES` (included), `row` one row's parentheses, e.g. `(?, ?, NULL)`.
    package init(_ head: String, row: String, maxRows: Int = 16) {
        statements = (1...maxRows).map { count in head + " " + Array(repeating: row, count: count).joined(separator: ", ") }
    }

    /// Inserts `count` rows, `bind` giving the parameters of row `index`.
    package func execute(_ db: Database, rows count: Int, bind: (inout RawParameters, Int) -> Void) throws {
        var done = 0
        while done < count {
            let size = min(statements.count, count - done)
            let first = done
            try db.cachedStatement(sql: statements[size - 1]).executeRaw { parameters in
                for index in first..<(first + size) { bind(&parameters, index) }
            }
            done += size
        }
    }
}
