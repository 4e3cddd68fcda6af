import Foundation

/// The tables of a DOCX document: rows of cells, each cell's paragraphs joined by newlines.
enum DOCXTables {
    struct Cell {
        var text: String
        /// How many grid columns it spans (a section row of a thematic list spans them all).
        var span: Int
    }

    typealias Row = [Cell]

    /// Every top-level table of the document, in order (tables nested in a cell are read as its text).
    static func tables(_ file: OfficeFile) throws -> [[Row]] {
        var tables: [[Row]] = []
        var depth = 0
        var row: Row = []
        var cell = Cell(text: "", span: 1)
        var paragraphs: [String] = []
        var paragraph = ""
        var inText = false
        try XMLWalker.walk(try file.part("word/document.xml"), what: "the document of '\(file.path)'", start: { name, attributes in
            switch name {
            case "w:tbl":
                depth += 1
                if depth == 1 { tables.append([]) }
            case "w:tr" where depth == 1: row = []
            case "w:tc" where depth == 1:
                cell = Cell(text: "", span: 1)
                paragraphs = []
            case "w:gridSpan" where depth == 1: cell.span = Int(attributes["w:val"] ?? "") ?? 1
            case "w:p": paragraph = ""
            case "w:t": inText = true
            case "w:tab": paragraph += "\t"
            case "w:br", "w:cr": paragraph += "\n"
            default: break
            }
        }, end: { name in
            switch name {
            case "w:t": inText = false
            case "w:p": paragraphs.append(paragraph)
            case "w:tc" where depth == 1:
                cell.text = paragraphs.joined(separator: "\n")
                row.append(cell)
            case "w:tr" where depth == 1:
                if !tables.isEmpty { tables[tables.count - 1].append(row) }
            case "w:tbl": depth -= 1
            default: break
            }
        }, text: { text in
            if inText { paragraph += text }
        })
        return tables
    }
}
