import Foundation
import Shared

/// OHCHR's "Thematic list of recommendations" (DOCX, one per review) as rows for the importer.
///
/// The list is one table. Its header names the columns, differently in each cycle (`Recommendation` /
/// `Recommendation and recommending State`, `Position` / `Position of the State under review`, `Full list of
/// themes` / `Human rights themes and groups of persons`, `Relevant SDGs`, `Assessment/comments on level of
/// implementation`); a row of one merged cell (`Theme: ...`) starts a section; the themes cell lists themes
/// (`- Women's rights`, or `A12 Acceptance of international norms` in the second cycle), then groups of persons
/// (`Groups of Persons:` or `Affected persons:`) and, in the third cycle, `SDGs:`. List cells are written as
/// JSON arrays, so that a theme with a comma stays one item.
enum ThematicList {
    static let header = ["Recommendation", "Response", "UN themes", "Groups of persons", "SDGs"]

    static func rows(_ file: OfficeFile) throws -> [CSVReader.Record] {
        let tables = try DOCXTables.tables(file)
        guard let table = tables.first(where: { table in table.first.map(isHeader) ?? false }), let head = table.first else {
            throw ClientError("'\(file.path)' has no table whose header names the recommendations: is it OHCHR's thematic list of recommendations?")
        }
        let columns = head.map { Schema.foldedKey($0.text) }
        func column(_ words: String...) -> Int? { columns.firstIndex { key in words.contains { key.contains($0) } } }
        let recommendation = column("recommendation") ?? 0
        let position = column("position")
        let themes = column("theme")
        let sdgs = column("sdg")
        var section: String?
        var records = [CSVReader.Record(line: 1, cells: header)]
        for (index, row) in table.enumerated().dropFirst() {
            let filled = row.filter { !$0.text.trimmed.isEmpty }
            if row.count == 1 || filled.count == 1 && row[0].span > 1 {
                section = sectionTheme(filled.first?.text ?? "")
                continue
            }
            guard row.indices.contains(recommendation), !row[recommendation].text.trimmed.isEmpty else { continue }
            func text(_ column: Int?) -> String { column.flatMap { row.indices.contains($0) ? row[$0].text : nil } ?? "" }
            var lists = themeCell(text(themes))
            if let section, !lists.themes.contains(where: { Schema.foldedKey($0) == Schema.foldedKey(section) }) {
                lists.themes.insert(section, at: 0)
            }
            lists.sdgs += listItems(text(sdgs))
            records.append(CSVReader.Record(line: index + 1, cells: [
                text(recommendation), text(position).trimmed,
                json(lists.themes), json(lists.groups), json(lists.sdgs),
            ]))
        }
        return records
    }

    private static func isHeader(_ row: DOCXTables.Row) -> Bool {
        row.count >= 2 && Schema.foldedKey(row[0].text).hasPrefix("recommendation")
    }

    /// `Theme: A12 Acceptance of international norms` -> `Acceptance of international norms`.
    static func sectionTheme(_ text: String) -> String? {
        var theme = text.trimmed
        if let colon = theme.range(of: "theme:", options: [.caseInsensitive, .anchored]) { theme = String(theme[colon.upperBound...]) }
        theme = withoutCode(theme.trimmed)
        return theme.isEmpty ? nil : theme
    }

    /// The themes, groups of persons and SDGs a themes cell lists.
    static func themeCell(_ text: String) -> (themes: [String], groups: [String], sdgs: [String]) {
        var result: (themes: [String], groups: [String], sdgs: [String]) = ([], [], [])
        var part = 0
        for line in text.components(separatedBy: .newlines) {
            let key = Schema.foldedKey(line)
            if key.hasPrefix("groups of persons") || key.hasPrefix("affected persons") { part = 1; continue }
            if key.hasPrefix("sdgs") { part = 2; continue }
            guard let item = listItems(line).first else { continue }
            switch part {
            case 0: result.themes.append(withoutCode(item))
            case 1: result.groups.append(item)
            default: result.sdgs.append(item)
            }
        }
        return result
    }

    /// The `- item` lines of a cell, without their dashes.
    private static func listItems(_ text: String) -> [String] {
        text.components(separatedBy: .newlines).compactMap { line in
            var item = Substring(line.trimmed)
            if item.hasPrefix("- ") || item.hasPrefix("-\t") { item = item.dropFirst(2) }
            let trimmed = item.trimmed
            return trimmed.isEmpty ? nil : trimmed
        }
    }

    /// The Universal Human Rights Index code the second cycle's lists put before a theme (`A12 `, `G4 `), removed.
    private static func withoutCode(_ theme: String) -> String {
        let scalars = Array(theme.unicodeScalars)
        guard scalars.count > 3, ("A"..."Z").contains(scalars[0]), ("0"..."9").contains(scalars[1]) else { return theme }
        var i = 1
        while i < scalars.count, ("0"..."9").contains(scalars[i]) { i += 1 }
        guard i < scalars.count, scalars[i] == " " else { return theme }
        return String(String.UnicodeScalarView(scalars[(i + 1)...])).trimmed
    }

    private static func json(_ items: [String]) -> String {
        guard !items.isEmpty, let data = try? JSONEncoder().encode(items) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
