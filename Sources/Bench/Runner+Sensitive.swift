import Foundation
import Shared

// Sensitive fields: what sealing two fields of every person costs a pull, and a read that opens them.
extension Runner {
    /// The same `count` person records (a code, a name, a contact, a role, a note) in two projects of
    /// one run: one whose name and contact are sensitive (sealed by the writer, granted to the reader),
    /// one whose are not. Each reader's initial pull, then a `list` that shows (and so opens) every value.
    mutating func sensitiveFields(records count: Int) throws -> [Row] {
        let csv = work.appendingPathComponent("persons-\(count).csv")
        try BenchData.personsCSV(count: count, to: csv)
        var times: [(pull: Double, list: Double)] = []
        for sensitive in [false, true] {
            let (server, token) = try freshServer(schema: BenchData.personSchema(sensitive: sensitive))
            defer { server.stop() }
            let readerToken = try server.admin(["user", "add", "reader", "--project", "bench"]).stdout.split(separator: "\n").last.map(String.init) ?? ""
            let writer = try replica(server, token: token)
            try check(try casebook(writer, ["import", "persons", csv.path]), "import")
            try check(try casebook(writer, ["sync"]), "sync")
            let reader = try replica(server, token: readerToken)
            if sensitive { try check(try casebook(writer, ["grant", "reader"]), "grant") }
            let pull = try casebook(reader, ["sync", "--json"])
            try check(pull, "sync")
            let list = try casebook(reader, ["list", "persons", "--json"])
            try check(list, "list")
            guard list.stdout.contains("\"name\":\"Name \(count - 1) "), !list.stdout.contains("sealed") else {
                throw BenchError("the reader's replica does not show every person's name opened")
            }
            times.append((pull.seconds, list.seconds))
        }
        let size = "\(count.formatted()) records", changes = Double(count * BenchData.personFields.count)
        return [
            Row(phase: "initial pull, persons", size: size, time: times[0].pull, rate: changes / times[0].pull, ratio: nil,
                note: "name and contact not sensitive; whole `casebook sync` process"),
            Row(phase: "initial pull, persons, 2 sensitive fields", size: size, time: times[1].pull, rate: changes / times[1].pull,
                ratio: times[1].pull / times[0].pull, note: "ratio column: time / the same without; values stay sealed in the replica"),
            Row(phase: "`casebook list persons --json`", size: size, time: times[0].list, rate: nil, ratio: nil, note: "not sensitive"),
            Row(phase: "`casebook list persons --json`, 2 sensitive fields", size: size, time: times[1].list, rate: nil,
                ratio: times[1].list / times[0].list, note: "opens \((2 * count).formatted()) sealed values (one AEAD each); ratio: / the same without"),
        ]
    }
}

extension BenchData {
    static let personFields = ["code", "name", "contact", "role", "notes"]

    /// One collection of persons; name and contact sensitive or not.
    static func personSchema(sensitive: Bool) -> Schema {
        let fields = [FieldSchema(name: "code", type: .text, required: true), FieldSchema(name: "name", type: .text, sensitive: sensitive),
                      FieldSchema(name: "contact", type: .text, sensitive: sensitive), FieldSchema(name: "role", type: .text),
                      FieldSchema(name: "notes", type: .longText)]
        return Schema(name: "bench", version: 1, collections: [CollectionSchema(name: "persons", titleField: "code", fields: fields)], vocabularies: [])
    }

    /// A CSV of `count` persons for `casebook import`.
    static func personsCSV(count: Int, to path: URL) throws {
        var generator = Generator(seed: 11)
        var text = personFields.joined(separator: ",") + "\n"
        for index in 0..<count {
            let notes = Self.text(120, &generator)
            text += "P-\(index),Name \(index) \(Self.text(14, &generator)),+7 701 \(100_000 + index),\(["victim", "witness", "source"][index % 3]),\(notes)\n"
        }
        try Data(text.utf8).write(to: path)
    }
}
