import Foundation
import Testing
@testable import Server
@testable import Shared

/// A project's schema is decoded once per stored text: a new text for the project is decoded again, another
/// project's text does not stand in for it, and a text that is not a schema is refused every time.
@Suite struct StoredSchemaTests {
    static func text(_ schema: Schema) throws -> String { String(decoding: try schema.jsonData(), as: UTF8.self) }

    @Test func aProjectsNewSchemaTextIsDecodedAgain() throws {
        let project = "stored-schema-\(UUID().uuidString.prefix(8))"
        var changed = Schema.upr
        changed.collections[0].fields.append(FieldSchema(name: "added_in_a_test", type: .text))
        #expect(try StoredSchema.decode(Self.text(.upr), project: project) == Schema.upr)
        #expect(try StoredSchema.decode(Self.text(changed), project: project) == changed)
        #expect(try StoredSchema.decode(Self.text(.upr), project: project) == Schema.upr)
        #expect(try StoredSchema.decode(Self.text(changed), project: project + "-other") == changed)
        #expect(try StoredSchema.decode(Self.text(.upr), project: project) == Schema.upr)
        // A text that only writes a description's "é" decomposed is another text: `==` on String would take it for the same.
        var decomposed = Schema.upr
        decomposed.collections[0].fields[0].description = "Caf\u{65}\u{301}"
        var composed = Schema.upr
        composed.collections[0].fields[0].description = "Caf\u{e9}"
        _ = try StoredSchema.decode(Self.text(composed), project: project)
        let read = try StoredSchema.decode(Self.text(decomposed), project: project)
        #expect(read.collections[0].fields[0].description?.unicodeScalars.count == 5)
        for _ in 0..<2 { #expect(throws: SchemaError.self) { try StoredSchema.decode("{\"collections\": 1}", project: project) } }
        #expect(try StoredSchema.decode(Self.text(.upr), project: project) == Schema.upr)
    }
}
