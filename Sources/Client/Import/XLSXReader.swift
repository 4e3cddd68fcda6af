import Foundation

/// Reads the first sheet of an XLSX workbook as rows of cell text (shared strings resolved, empty cells kept).
enum XLSXReader {
    static func rows(_ file: OfficeFile) throws -> [CSVReader.Record] {
        let strings = file.has("xl/sharedStrings.xml") ? try sharedStrings(file.part("xl/sharedStrings.xml")) : []
        let sheet = try firstSheetPath(file)
        var rows: [CSVReader.Record] = []
        var cells: [Int: String] = [:]
        var rowNumber = 0
        var column = 0, type = "", value = "", inValue = false
        try XMLWalker.walk(try file.part(sheet), what: "sheet '\(sheet)' of '\(file.path)'", start: { name, attributes in
            switch name {
            case "row":
                rowNumber = Int(attributes["r"] ?? "") ?? rowNumber + 1
                cells = [:]
            case "c":
                column = attributes["r"].map(columnIndex) ?? (cells.keys.max() ?? -1) + 1
                type = attributes["t"] ?? "n"
                value = ""
            case "v", "t": inValue = true
            default: break
            }
        }, end: { name in
            switch name {
            case "v", "t": inValue = false
            case "c":
                let text = type == "s" ? Int(value).flatMap { strings.indices.contains($0) ? strings[$0] : nil } ?? "" : value
                if !text.isEmpty { cells[column] = text }
            case "row":
                let width = (cells.keys.max() ?? -1) + 1
                rows.append(CSVReader.Record(line: rowNumber, cells: (0..<width).map { cells[$0] ?? "" }))
            default: break
            }
        }, text: { text in
            if inValue { value += text }
        })
        // Rows are as wide as their last filled cell: pad them to the header's width.
        let width = rows.first?.cells.count ?? 0
        return rows.map { row in
            var row = row
            if row.cells.count < width { row.cells += Array(repeating: "", count: width - row.cells.count) }
            return row
        }
    }

    /// `C12` -> 2 (columns from 0).
    static func columnIndex(_ reference: String) -> Int {
        var index = 0
        for scalar in reference.unicodeScalars {
            guard ("A"..."Z").contains(scalar) else { break }
            index = index * 26 + Int(scalar.value - 64)
        }
        return index - 1
    }

    private static func sharedStrings(_ data: Data) throws -> [String] {
        var strings: [String] = [], current = "", inText = false
        try XMLWalker.walk(data, what: "the shared strings", start: { name, _ in
            if name == "si" { current = "" }
            if name == "t" { inText = true }
        }, end: { name in
            if name == "t" { inText = false }
            if name == "si" { strings.append(current) }
        }, text: { text in
            if inText { current += text }
        })
        return strings
    }

    /// The part of the workbook's first sheet, through the workbook's relationships.
    private static func firstSheetPath(_ file: OfficeFile) throws -> String {
        var relation: String?
        try XMLWalker.walk(try file.part("xl/workbook.xml"), what: "the workbook", start: { name, attributes in
            if name == "sheet", relation == nil { relation = attributes["r:id"] }
        })
        var target: String?
        if let relation {
            try XMLWalker.walk(try file.part("xl/_rels/workbook.xml.rels"), what: "the workbook's relationships", start: { name, attributes in
                if name == "Relationship", attributes["Id"] == relation { target = attributes["Target"] }
            })
        }
        guard let target else { return "xl/worksheets/sheet1.xml" }
        return target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
    }
}
