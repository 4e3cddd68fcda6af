import Foundation
import Shared

/// The rows of a file to import, whatever its format: CSV in any encoding a spreadsheet saves, the first
/// sheet of an XLSX workbook, or OHCHR's thematic list of recommendations (DOCX).
struct ImportSource {
    enum Format: String {
        case csv = "CSV"
        case xlsx = "XLSX"
        case docx = "DOCX"
    }

    let format: Format
    /// What the importer tells the user about how it read the file (the encoding it found).
    let notice: String?
    /// The review the file names as a whole (a thematic list's header), if any.
    private(set) var identity: ReviewIdentity?
    private var csv: CSVReader?
    private var records: [CSVReader.Record] = []
    private var next = 0

    /// Opens `path`: a ZIP archive is read as XLSX or DOCX by its parts, anything else as CSV.
    init(path: String, encoding: TextEncoding?) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ClientError("cannot read '\(path)': check the path and that the file is readable")
        }
        let magic = [UInt8]((try? handle.read(upToCount: 4)) ?? Data())
        try? handle.close()
        if magic == [0xD0, 0xCF, 0x11, 0xE0] {
            throw ClientError("'\(path)' is an Excel 97-2003 workbook (.xls), which casebook does not read: open it and save it as an Excel workbook (.xlsx) or as CSV, then import that")
        }
        if magic == [0x50, 0x4B, 0x03, 0x04] {
            let file = try OfficeFile(path: path)
            if file.has("word/document.xml") {
                format = .docx
                records = try ThematicList.rows(file)
                identity = ThematicList.identity(file)
            } else if file.has("xl/workbook.xml") {
                format = .xlsx
                records = try XLSXReader.rows(file)
            } else {
                throw ClientError("'\(path)' is a ZIP archive but neither an XLSX workbook nor a DOCX document")
            }
            notice = nil
            return
        }
        format = .csv
        let opened = try DecodedText.csvReader(path: path, named: encoding)
        csv = opened.reader
        // UTF-8 is what is expected: say so only when the file is something else.
        notice = opened.detected && opened.encoding != .utf8
            ? "read '\(path)' as \(opened.encoding.displayName) (its bytes are not UTF-8); if letters look wrong, give --encoding" : nil
    }

    /// Bytes read so far, for progress (CSV only).
    var bytesRead: Int { csv?.bytesRead ?? 0 }

    /// The next record, or nil at the end.
    mutating func nextRecord() throws -> CSVReader.Record? {
        if csv != nil { return try csv!.next() }
        guard next < records.count else { return nil }
        defer { next += 1 }
        return records[next]
    }
}
