import Foundation
import Shared

/// Generated incident-like records: 12 fields each (short strings, dates, a list, a 300-character text).
enum BenchData {
    static let fields = ["title", "code", "location", "region", "reporter", "source", "status", "date", "reported", "reviewed", "themes", "description"]
    static let themes = ["assembly", "expression", "detention", "torture", "impunity", "defenders", "gender", "disability"]

    /// The benchmark's schema: one collection with those fields.
    static var schema: Schema {
        var fieldSchemas: [FieldSchema] = fields.map { name in
            switch name {
            case "date", "reported", "reviewed": FieldSchema(name: name, type: .date)
            case "themes": FieldSchema(name: name, type: .list)
            case "description": FieldSchema(name: name, type: .longText)
            default: FieldSchema(name: name, type: .text)
            }
        }
        fieldSchemas[0].required = true
        return Schema(name: "bench", version: 1, collections: [CollectionSchema(name: "incidents", titleField: "title", fields: fieldSchemas)],
                      vocabularies: [])
    }

    struct Generator: RandomNumberGenerator {
        private var random: SplitMix64
        init(seed: UInt64) { random = SplitMix64(seed: seed) }
        mutating func next() -> UInt64 { random.next() }
        mutating func recordID() -> String { RecordID.generate(now: 1_700_000_000_000, using: &self) }
    }

    static let words = ["protest", "detained", "journalist", "court", "police", "activist", "blogger", "hearing", "release", "charges",
                        "Almaty", "Astana", "Shymkent", "Aktobe", "Karaganda", "Taraz", "Pavlodar", "Semey", "Atyrau", "Kostanay"]

    static func text(_ count: Int, _ generator: inout Generator) -> String {
        var out = ""
        while out.count < count { out += words[Int(generator.next() % UInt64(words.count))] + " " }
        return String(out.prefix(count))
    }

    static func date(_ generator: inout Generator) -> String {
        String(format: "20%02d-%02d-%02d", 20 + Int(generator.next() % 6), 1 + Int(generator.next() % 12), 1 + Int(generator.next() % 28))
    }

    /// The 12 values of record number `index`.
    static func record(_ index: Int, _ generator: inout Generator) -> [(String, FieldValue)] {
        [
            ("title", .text("Incident \(index): " + text(40, &generator))),
            ("code", .text("CASE-\(index)")),
            ("location", .text(text(12, &generator))),
            ("region", .text("region-\(index % 17)")),
            ("reporter", .text("researcher-\(index % 9)")),
            ("source", .text("source-\(index % 101)")),
            ("status", .text(["open", "verified", "closed"][index % 3])),
            ("date", .date(date(&generator))),
            ("reported", .date(date(&generator))),
            ("reviewed", .date(date(&generator))),
            ("themes", .list((0..<2).map { _ in themes[Int(generator.next() % UInt64(themes.count))] })),
            ("description", .text(text(300, &generator))),
        ]
    }

    /// A CSV of `count` records for `casebook import`.
    static func csv(count: Int, seed: UInt64, to path: URL) throws {
        var generator = Generator(seed: seed)
        FileManager.default.createFile(atPath: path.path, contents: nil)
        let handle = try FileHandle(forWritingTo: path)
        defer { try? handle.close() }
        var buffer = fields.joined(separator: ",") + "\n"
        for index in 0..<count {
            let cells = record(index, &generator).map { _, value -> String in
                let text = value.displayText
                return text.contains(",") ? "\"" + text + "\"" : text
            }
            buffer += cells.joined(separator: ",") + "\n"
            if buffer.utf8.count > 1 << 20 {
                handle.write(Data(buffer.utf8))
                buffer = ""
            }
        }
        handle.write(Data(buffer.utf8))
    }
}
