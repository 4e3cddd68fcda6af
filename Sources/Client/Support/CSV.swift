import Foundation
import Shared

/// Reads RFC 4180 CSV from a file, record by record, without loading the file.
struct CSVReader {
    /// One record and the line it starts on.
    struct Record {
        var line: Int
        var cells: [String]
    }

    /// A malformed file, with the line.
    struct Malformed: Error {
        var line: Int
        var message: String
    }

    /// The longest cell, in bytes: room for the longest long text (a million characters) in any script.
    var maxCellBytes = 8 << 20
    /// The longest record, in bytes, and the most cells it may have: a hostile file (one row of
    /// 30 MB of commas, a 200 MB cell) is refused when it passes them, before it fills the memory.
    var maxRecordBytes = 16 << 20
    var maxCells = 10_000
    /// What separates cells: a comma, or what a spreadsheet saved instead (`;` where the comma is the
    /// decimal mark, a tab in "Unicode text"); see `delimiter(of:)`.
    var delimiter = UInt8(ascii: ",")

    /// The delimiter a file's first line uses: a comma unless the line has none outside quotes but has
    /// semicolons or tabs.
    static func delimiter(of head: some Sequence<UInt8>) -> UInt8 {
        var counts: [UInt8: Int] = [:]
        var quoted = false
        for byte in head {
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if !quoted && (byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")) { break }
            if !quoted && (byte == UInt8(ascii: ",") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "\t")) { counts[byte, default: 0] += 1 }
        }
        guard counts[UInt8(ascii: ",")] == nil, let best = counts.max(by: { $0.value < $1.value }) else { return UInt8(ascii: ",") }
        return best.key
    }

    private let handle: FileHandle?
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false
    private var line = 1
    private var first = true
    /// Bytes read so far, for progress.
    private(set) var bytesRead = 0

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ClientError("cannot read '\(path)': check the path and that the file is readable")
        }
        self.handle = handle
    }

    /// Reads CSV already in memory (a file decoded from another encoding), as UTF-8 bytes.
    init(bytes: [UInt8]) {
        handle = nil
        buffer = bytes
        atEnd = true
        bytesRead = bytes.count
    }

    private mutating func fill() throws {
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        guard let handle else {
            atEnd = true
            return
        }
        let chunk = try handle.read(upToCount: 1 << 16) ?? Data()
        if chunk.isEmpty { atEnd = true }
        bytesRead += chunk.count
        buffer.append(contentsOf: chunk)
    }

    private mutating func nextByte() throws -> UInt8? {
        if position >= buffer.count {
            if atEnd { return nil }
            try fill()
            if position >= buffer.count { return nil }
        }
        defer { position += 1 }
        return buffer[position]
    }

    private mutating func peekByte() throws -> UInt8? {
        if position >= buffer.count {
            if atEnd { return nil }
            try fill()
            if position >= buffer.count { return nil }
        }
        return buffer[position]
    }

    /// Skips a UTF-8 byte order mark at the start of the file.
    private mutating func skipByteOrderMark() throws {
        guard try peekByte() == 0xEF else { return }
        try fill()
        if buffer.count >= position + 3 && buffer[position + 1] == 0xBB && buffer[position + 2] == 0xBF { position += 3 }
    }

    /// The next record, or nil at the end of the file. Cells must be valid UTF-8.
    mutating func next() throws -> Record? {
        if first {
            first = false
            try skipByteOrderMark()
        }
        let startLine = line
        var cells: [String] = []
        var cell: [UInt8] = []
        var quoted = false
        var sawAnything = false
        var recordBytes = 0
        func finishCell() throws {
            try checkSize(cell: cell.count, column: cells.count + 1, line: startLine)
            guard cells.count < maxCells else {
                throw Malformed(line: startLine, message: "it has more than \(maxCells.formatted()) columns: is it a CSV file?")
            }
            guard let text = String(validating: cell, as: UTF8.self) else {
                throw Malformed(line: startLine, message: "column \(cells.count + 1) is not valid UTF-8: save the file as UTF-8, or name its encoding with --encoding")
            }
            cells.append(text)
            cell.removeAll(keepingCapacity: true)
        }
        while let byte = try nextByte() {
            sawAnything = true
            recordBytes += 1
            if recordBytes > maxRecordBytes || cell.count > maxCellBytes {
                try checkSize(cell: cell.count, column: cells.count + 1, line: startLine)
                throw Malformed(line: startLine, message: "it is longer than \(maxRecordBytes >> 20) MiB: is it a CSV file?")
            }
            if quoted {
                quoted = try readQuoted(byte, into: &cell)
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                guard cell.isEmpty else { throw Malformed(line: line, message: "a quote inside an unquoted cell: quote the whole cell and double the quote") }
                quoted = true
            case delimiter:
                try finishCell()
            case UInt8(ascii: "\r"):
                if try peekByte() == UInt8(ascii: "\n") { continue }
                try finishCell()
                line += 1
                return Record(line: startLine, cells: cells)
            case UInt8(ascii: "\n"):
                try finishCell()
                line += 1
                return Record(line: startLine, cells: cells)
            default:
                cell.append(byte)
            }
        }
        if quoted { throw Malformed(line: startLine, message: "a quoted cell is never closed") }
        guard sawAnything else { return nil }
        try finishCell()
        return Record(line: startLine, cells: cells)
    }

    /// One byte inside a quoted cell: a doubled quote is a quote, a single one ends the quoting.
    /// Returns whether the cell is still quoted.
    private mutating func readQuoted(_ byte: UInt8, into cell: inout [UInt8]) throws -> Bool {
        guard byte == UInt8(ascii: "\"") else {
            if byte == UInt8(ascii: "\n") { line += 1 }
            cell.append(byte)
            return true
        }
        guard try peekByte() == UInt8(ascii: "\"") else { return false }
        position += 1
        cell.append(byte)
        return true
    }

    /// Refuses a cell longer than `maxCellBytes`.
    private func checkSize(cell bytes: Int, column: Int, line: Int) throws {
        guard bytes <= maxCellBytes else {
            throw Malformed(line: line, message: "column \(column) is longer than \(maxCellBytes >> 20) MiB, more than any field takes")
        }
    }
}

/// Writes CSV in chunks.
struct CSVWriter {
    var buffer = ""

    mutating func row(_ cells: [String]) {
        buffer += cells.map(Self.escape).joined(separator: ",") + "\r\n"
    }

    /// Writes records as `casebook import` reads them: an `id` column, then every field of the collection.
    /// Unless `raw`, a cell a spreadsheet would run as a formula is neutralised (`neutralised(_:)`).
    static func export(_ views: [RecordView], schema: CollectionSchema, raw: Bool = false, to write: (String) -> Void) {
        let columns = schema.fields.map(\.name)
        var writer = CSVWriter()
        writer.row(["id"] + columns)
        for view in views {
            writer.row([view.id] + columns.map { name in
                let text = cell(view.fields[name] ?? .unset)
                return raw ? text : neutralised(text)
            })
            if writer.buffer.utf8.count > 1 << 16 {
                write(writer.buffer)
                writer.buffer = ""
            }
        }
        write(writer.buffer)
    }

    /// A cell that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or
    /// a carriage return), prefixed with a single quote, as OWASP recommends against CSV injection:
    /// spreadsheets then show it as text. A whole number (`-5`) is left alone, and so is everything
    /// else. A cell that already starts with quotes before such a character gets one more, so that
    /// `unneutralised(_:)` (what `casebook import` does) gives every value back exactly.
    static func neutralised(_ text: String) -> String {
        isFormulaLike(text) ? "'" + text : text
    }

    /// The value of a cell written by `neutralised(_:)`.
    static func unneutralised(_ text: String) -> String {
        guard text.hasPrefix("'") else { return text }
        let rest = String(text.dropFirst())
        return isFormulaLike(rest) ? rest : text
    }

    private static func isFormulaLike(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first(where: { $0 != "'" }), "=+-@\t\r".unicodeScalars.contains(first) else { return false }
        return Int64(text) == nil
    }

    static func escape(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || text.hasPrefix(" ") || text.hasSuffix(" ") else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A value as one cell: lists comma-separated, or as a JSON array when an item holds a comma.
    static func cell(_ value: FieldValue) -> String {
        switch value {
        case .list(let items), .references(let items):
            if items.contains(where: { $0.contains(",") || $0.hasPrefix("[") || $0 != $0.trimmingCharacters(in: .whitespaces) }) {
                let data = (try? JSONEncoder().encode(items)) ?? Data("[]".utf8)
                return String(decoding: data, as: UTF8.self)
            }
            return items.joined(separator: ",")
        case .unset: return ""
        default: return value.displayText
        }
    }
}
