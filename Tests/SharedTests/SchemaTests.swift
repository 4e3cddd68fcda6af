import Foundation
import Testing
import Yams
@testable import Shared

@Suite struct SchemaTests {
    let schema = Schema.upr

    @Test func theDefaultSchemaHasEveryFixedName() throws {
        let fixed: [String: [String]] = [
            "reviews": ["state", "cycle", "date", "response_deadline"],
            "recommendations": ["review", "text", "recommending_state", "themes", "response", "status"],
            "incidents": ["title", "date", "location", "description", "themes", "recommendations"],
            "persons": ["code", "role", "consent"],
            "sources": ["title", "kind", "reliability", "date"],
        ]
        for (collection, fields) in fixed {
            let schema = try #require(schema.collection(collection))
            for field in fields { #expect(schema.field(field) != nil, "\(collection).\(field)") }
        }
        #expect(schema.collection("recommendations")?.field("text")?.required == true)
        #expect(schema.collection("incidents")?.field("title")?.required == true)
        #expect(schema.collection("persons")?.field("code")?.required == true)
        #expect(schema.vocabulary("response")?.terms.map(\.id) == ["pending", "supported", "supported_in_part", "noted"])
        #expect(schema.vocabulary("implementation_status")?.terms.map(\.id)
            == ["not_assessed", "not_implemented", "partially_implemented", "implemented", "ongoing", "regressed"])
        #expect(schema.vocabulary("themes")?.terms.count == 18)
        #expect(schema.vocabulary("themes")?.contains("counter_extremism_and_terrorism") == true)
    }

    @Test func parsesValuesAsAUserTypesThem() throws {
        #expect(try schema.parse("Kazakhstan", collection: "reviews", field: "state") == .text("Kazakhstan"))
        #expect(try schema.parse("4", collection: "reviews", field: "cycle") == .integer(4))
        #expect(try schema.parse("2025-01-23", collection: "reviews", field: "date") == .date("2025-01-23"))
        #expect(try schema.parse("Norway, Australia", collection: "recommendations", field: "recommending_state")
            == .list(["Norway", "Australia"]))
        #expect(try schema.parse("torture_and_ill_treatment,death_penalty", collection: "recommendations", field: "themes")
            == .list(["torture_and_ill_treatment", "death_penalty"]))
        #expect(try schema.parse("supported", collection: "recommendations", field: "response") == .text("supported"))
        #expect(try schema.parse("Алматы, Қазақстан", collection: "incidents", field: "location") == .text("Алматы, Қазақстан"))
    }

    @Test func refusesBadValuesWithMessagesThatNameTheFieldAndTheChoices() {
        func message(_ text: String, _ collection: String, _ field: String) -> String {
            let error = #expect(throws: SchemaError.self, "\(collection).\(field) = \(text.prefix(20))") {
                try schema.parse(text, collection: collection, field: field)
            }
            return error?.message ?? "accepted"
        }
        let response = message("accepted", "recommendations", "response")
        #expect(response.contains("'response'"))
        #expect(response.contains("supported, supported_in_part, noted"))
        #expect(message("2025-02-30", "reviews", "date").contains("YYYY-MM-DD"))
        #expect(message("23/01/2025", "reviews", "date").contains("YYYY-MM-DD"))
        #expect(message("four", "reviews", "cycle").contains("whole number"))
        #expect(message("torture", "incidents", "themes").contains("not 'torture'"))
        #expect(message("x", "incidents", "colour").contains("unknown field 'colour' in incidents"))
        #expect(message("x", "cases", "title").contains("unknown collection 'cases'"))
        #expect(message("abc", "recommendations", "review").contains("full id"))
        #expect(message("bell\u{7}", "incidents", "title").contains("control character U+7"))
        #expect(message(String(repeating: "a", count: 5_000), "incidents", "title").contains("longer than"))
    }

    @Test func aNewRecordNeedsItsRequiredFields() {
        #expect(throws: SchemaError.self) { try schema.validateNewRecord(collection: "incidents", fields: ["location": .text("Almaty")]) }
        let error = #expect(throws: SchemaError.self) { try schema.validateNewRecord(collection: "incidents", fields: [:]) }
        #expect(error?.message.contains("needs 'title'") == true)
        #expect(error?.message.contains("--set title=") == true)
        #expect(throws: Never.self) { try schema.validateNewRecord(collection: "incidents", fields: ["title": .text("Protest")]) }
        #expect(throws: SchemaError.self) { try schema.validate(.unset, collection: "incidents", field: "title") }
    }

    @Test func everyListItemIsCheckedForLengthAndControlCharacters() throws {
        // `recommending_state` is a free list: no vocabulary would catch a bad item.
        func refusal(_ items: [String]) -> String? {
            let error = #expect(throws: SchemaError.self, "\(items.map { $0.prefix(20) })") {
                try schema.validate(.list(items), collection: "recommendations", field: "recommending_state")
            }
            return error?.message
        }
        let longest = String(repeating: "é", count: Schema.Limits.itemLength)
        #expect(throws: Never.self) { try schema.validate(.list(["Norway", longest]), collection: "recommendations", field: "recommending_state") }
        #expect(refusal(["Norway", longest + "e"])?.contains("longer than \(Schema.Limits.itemLength) characters") == true)
        #expect(refusal(["Norway", "Spa\u{07}in"])?.contains("control character U+7") == true)
        #expect(refusal(["Norway\nSpain"])?.contains("control character U+A") == true)
        #expect(refusal(["\u{85}"])?.contains("control character U+85") == true)
        #expect(refusal(Array(repeating: "Norway", count: Schema.Limits.listItems + 1))?.contains("more than \(Schema.Limits.listItems) items") == true)
        // The same check guards a change as the server validates it.
        let change = Change(collection: "recommendations", record: Fixture.record, field: "recommending_state",
                            value: .list(["Norway", "Spa\u{07}in"]), hlc: Fixture.hlc(1), author: "ana", base: nil)
        #expect(throws: SchemaError.self) { try schema.validate(change) }
    }

    @Test func textsAreBoundedInBytesAsWellAsCharacters() throws {
        // One letter with 100,000 combining marks is one character (a grapheme cluster) of 200 KB.
        let zalgo = "a" + String(repeating: "\u{0301}", count: 100_000)
        #expect(zalgo.count == 1)
        for (collection, field, limit) in [("incidents", "title", Schema.Limits.textLength), ("incidents", "description", Schema.Limits.longTextLength)] {
            let heavy = limit == Schema.Limits.textLength ? zalgo : "a" + String(repeating: "\u{0301}", count: limit * 2)
            let error = #expect(throws: SchemaError.self, "\(field)") { try schema.validate(.text(heavy), collection: collection, field: field) }
            #expect(error?.message.contains("longer than \(limit * Schema.Limits.bytesPerCharacter) bytes") == true, "\(error?.message ?? "accepted")")
        }
        let items = ["a" + String(repeating: "\u{0301}", count: Schema.Limits.itemLength * 2)]
        #expect(throws: SchemaError.self) { try schema.validate(.list(items), collection: "recommendations", field: "recommending_state") }
        // Text at the limits in four-byte characters still passes.
        let emoji = String(repeating: "😀", count: Schema.Limits.textLength)
        #expect(throws: Never.self) { try schema.validate(.text(emoji), collection: "incidents", field: "title") }
    }

    @Test func yamlAndJSONGiveTheSameSchema() throws {
        let json = try schema.jsonData()
        let yaml = try YAMLEncoder().encode(schema)
        #expect(yaml.contains("title_field: text"))
        let fromYAML = try YAMLDecoder().decode(Schema.self, from: yaml)
        #expect(fromYAML == schema)
        #expect(try Schema.fromJSON(json) == schema)
        let handWritten = """
            name: casework
            version: 1
            vocabularies: []
            collections:
              - name: cases
                title_field: title
                fields:
                  - {name: title, type: text, required: true}
                  - {name: opened, type: date}
            """
        let small = try YAMLDecoder().decode(Schema.self, from: handWritten)
        try small.check()
        #expect(small.collection("cases")?.field("opened")?.type == .date)
    }

    @Test func inconsistentSchemasAreRefused() throws {
        var broken = schema
        broken.collections[0].fields.append(FieldSchema(name: "themes", type: .enumList, vocabulary: "colours"))
        #expect(throws: SchemaError.self) { try broken.check() }
        broken = schema
        broken.collections[0].titleField = "nope"
        #expect(throws: SchemaError.self) { try broken.check() }
        #expect(throws: SchemaError.self) { try Schema.fromJSON(Data("{\"name\": 1}".utf8)) }
    }
}

// Column aliases and report roles: the schema's data for `casebook import` and `casebook report`.
extension SchemaTests {
    /// The embedded schema's JSON as a stored replica or server of an earlier version holds it: no aliases, no report.
    func oldJSON() throws -> Data {
        var object = try #require(try JSONSerialization.jsonObject(with: try Schema.upr.jsonData()) as? [String: Any])
        object["report"] = nil
        object["vocabularies"] = (object["vocabularies"] as? [[String: Any]])?.map { vocabulary in
            var vocabulary = vocabulary
            vocabulary["terms"] = (vocabulary["terms"] as? [[String: Any]])?.map { term in
                var term = term
                term["aliases"] = nil
                return term
            }
            return vocabulary
        }
        object["collections"] = (object["collections"] as? [[String: Any]])?.map { collection in
            var collection = collection
            collection["fields"] = (collection["fields"] as? [[String: Any]])?.map { field in
                var field = field
                field["aliases"] = nil
                return field
            }
            return collection
        }
        return try JSONSerialization.data(withJSONObject: object)
    }

    func refusal(_ schema: Schema) -> String? {
        do {
            try schema.check()
            return nil
        } catch {
            return error.message
        }
    }

    @Test func theDefaultSchemaCarriesItsAliasesAndReportRoles() throws {
        let recommendations = try #require(Schema.upr.collection("recommendations"))
        #expect(recommendations.field("paragraph")?.aliases.contains("paragraph number") == true)
        #expect(recommendations.field("recommending_state")?.aliases.contains("sponsor") == true)
        #expect(Schema.upr.report == ReportRoles(recommendations: "recommendations", reviews: "reviews", assessments: "assessments"))
        #expect(recommendations.field(forColumn: " Paragraph-Number ")?.name == "paragraph")
        #expect(recommendations.field(forColumn: "RECOMMENDING STATE")?.name == "recommending_state")
        #expect(recommendations.field(forColumn: "upr_cycle")?.name == "cycle")
        #expect(recommendations.field(forColumn: "notes") == nil)
    }

    @Test func anOldSchemaWithoutTheNewKeysStillDecodes() throws {
        let old = try Schema.fromJSON(try oldJSON())
        #expect(old.report == nil)
        #expect(old.collections.allSatisfy { $0.fields.allSatisfy(\.aliases.isEmpty) })
        #expect(old.collections.map(\.name) == Schema.upr.collections.map(\.name))
        // Encoded again, it gains no keys: the stored form of such a schema does not change.
        let text = String(decoding: try old.jsonData(), as: UTF8.self)
        #expect(!text.contains("\"aliases\""))
        #expect(!text.contains("\"report\""))
        // A replica of a upr project stored so gets the embedded schema's aliases and report back.
        #expect(old.backfilled(from: .upr).withTermAliases(from: .upr) == Schema.upr)
        #expect(old.vocabularies.allSatisfy { $0.terms.allSatisfy(\.aliases.isEmpty) })
        var other = old
        other.name = "casework"
        #expect(other.backfilled(from: .upr) == other)
    }

    @Test func anAliasThatCouldMeanTwoFieldsIsRefused() throws {
        func with(_ field: String, aliases: [String]) throws -> Schema {
            var schema = Schema.upr
            let c = try #require(schema.collections.firstIndex { $0.name == "recommendations" })
            let f = try #require(schema.collections[c].fields.firstIndex { $0.name == field })
            schema.collections[c].fields[f].aliases += aliases
            return schema
        }
        let otherName = try #require(refusal(try with("status", aliases: ["Response"])))
        #expect(otherName.contains("alias 'Response' of field 'recommendations.status'"))
        #expect(otherName.contains("field 'recommendations.response'"))
        #expect(otherName.contains("remove it from one of them"))
        let otherAlias = try #require(refusal(try with("status", aliases: ["topic"])))
        #expect(otherAlias.contains("'recommendations.themes'"))
        #expect(refusal(try with("status", aliases: [" Id "]))?.contains("the column of record ids") == true)
        #expect(refusal(try with("status", aliases: [" _ "]))?.contains("is empty") == true)
        // Its own name, or the same alias twice, says nothing ambiguous.
        #expect(refusal(try with("recommending_state", aliases: ["Recommending State", "sponsor"])) == nil)

        let json = try with("cycle", aliases: ["paragraph no"]).jsonData()
        let error = #expect(throws: SchemaError.self) { try Schema.fromJSON(json) }
        #expect(error?.message.contains("alias 'paragraph no' of field 'recommendations.cycle'") == true)
    }

    @Test func reportRolesMustNameCollectionsTheSchemaDefines() {
        var schema = Schema.upr
        schema.report?.assessments = "evaluations"
        #expect(refusal(schema) == "the report section names 'evaluations' as its assessments, a collection the schema does not define")
    }

    /// `isBlank` (which a required text's check uses) agrees with Foundation's trimming on every Unicode scalar.
    @Test func blankMeansWhatTrimmingWhitespaceAndNewlinesLeavesEmpty() {
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = String(scalar)
            if Schema.isBlank(text) != text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                Issue.record("U+\(String(value, radix: 16)): isBlank \(Schema.isBlank(text))")
            }
        }
        #expect(Schema.isBlank("") && Schema.isBlank(" \t\r\n\u{2028}\u{3000}") && !Schema.isBlank(" \u{301}") && !Schema.isBlank(" a "))
    }
}
