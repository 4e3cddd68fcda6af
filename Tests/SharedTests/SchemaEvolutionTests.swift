import Foundation
import Testing
@testable import Shared

/// What a new schema version may change: additions, labels, aliases and retirements pass; what
/// would change the meaning of stored values is refused with a sentence naming it; what depends on
/// the data is counted on the records.
@Suite struct SchemaEvolutionTests {
    let old = Schema.upr

    func changed(_ edit: (inout Schema) -> Void) -> Schema {
        var schema = old
        schema.version += 1
        edit(&schema)
        return schema
    }

    func incidents(_ schema: inout Schema, _ edit: (inout CollectionSchema) -> Void) {
        let index = schema.collections.firstIndex { $0.name == "incidents" }!
        edit(&schema.collections[index])
    }

    func vocabulary(_ schema: inout Schema, _ name: String, _ edit: (inout Vocabulary) -> Void) {
        let index = schema.vocabularies.firstIndex { $0.name == name }!
        edit(&schema.vocabularies[index])
    }

    @Test func additionsRelabelsAndRetirementsAreAccepted() throws {
        let new = changed { schema in
            incidents(&schema) { $0.fields.append(FieldSchema(name: "district", type: .text, aliases: ["Район"])) }
            vocabulary(&schema, "violation_status") { vocabulary in
                vocabulary.terms.append(.init(id: "retracted", label: "Retracted"))
                vocabulary.terms[0].label = "Alleged (unconfirmed)"
                vocabulary.terms[3].deprecated = true
            }
            schema.collections.append(CollectionSchema(name: "hearings", titleField: "court", fields: [FieldSchema(name: "court", type: .text)]))
        }
        try new.check()
        let evolution = SchemaEvolution(from: old, to: new)
        #expect(evolution.problems.isEmpty)
        #expect(evolution.steps.map(\.description) == [
            "term violation_status.alleged now reads 'Alleged (unconfirmed)'",
            "term violation_status.disputed retired (kept for its values, refused for new ones)",
            "new term violation_status.retracted",
            "new field incidents.district",
            "new collection hearings",
        ])
    }

    @Test func whatWouldChangeStoredValuesIsRefusedByName() {
        let new = changed { schema in
            schema.version = old.version
            incidents(&schema) { collection in
                collection.fields.removeAll { $0.name == "location" }
                let title = collection.fields.firstIndex { $0.name == "title" }!
                collection.fields[title].type = .longText
                let status = collection.fields.firstIndex { $0.name == "violation_status" }!
                collection.fields[status].vocabulary = "reliability"
            }
            schema.vocabularies.removeAll { $0.name == "consent" }
            let persons = schema.collections.firstIndex { $0.name == "persons" }!
            let code = schema.collections[persons].fields.firstIndex { $0.name == "code" }!
            schema.collections[persons].fields[code].sensitive = true
            schema.collections.removeAll { $0.name == "sources" }
        }
        let problems = SchemaEvolution(from: old, to: new).problems
        #expect(problems.count == 7, "\(problems)")
        for phrase in ["version is 1, not above the project's 1", "vocabulary consent is missing", "collection sources is missing",
                       "incidents.location is missing", "incidents.title changes type from text to long_text",
                       "incidents.violation_status changes vocabulary from violation_status to reliability",
                       "persons.code becomes sensitive: its stored values are not sealed"] {
            #expect(problems.contains { $0.contains(phrase) }, "\(phrase): \(problems)")
        }
    }

    @Test func aRequiredFieldAndARemovedTermAreCountedOnTheLiveRecords() {
        let new = changed { schema in
            incidents(&schema) { collection in
                let location = collection.fields.firstIndex { $0.name == "location" }!
                collection.fields[location].required = true
            }
            vocabulary(&schema, "themes") { $0.terms.removeAll { $0.id == "justice_and_impunity" } }
        }
        let evolution = SchemaEvolution(from: old, to: new)
        #expect(evolution.problems.isEmpty)
        #expect(evolution.fieldsToRead(old: old)["incidents"] == ["_deleted", "location", "themes"])
        let records = [
            SchemaRecord(collection: "incidents", values: ["location": [.text("Almaty")], "themes": [.list(["justice_and_impunity"])]]),
            SchemaRecord(collection: "incidents", values: ["location": [.unset]]),
            SchemaRecord(collection: "incidents", values: [:]),
            // Deleted records do not count.
            SchemaRecord(collection: "incidents", values: ["_deleted": [.bool(true)], "themes": [.list(["justice_and_impunity"])]]),
            SchemaRecord(collection: "recommendations", values: ["themes": [.list(["justice_and_impunity", "x"])]]),
        ]
        let refusals = evolution.refusals(old: old, records: records)
        #expect(refusals == [
            "term themes.justice_and_impunity cannot be removed: 2 record(s) use it; keep it with \"deprecated\": true instead",
            "field incidents.location cannot become required: 2 record(s) of incidents have no value for it; fill them in first, or leave it optional",
        ])
        #expect(evolution.refusals(old: old, records: [SchemaRecord(collection: "incidents", values: ["location": [.text("Almaty")]])]).isEmpty)
    }

    @Test func retiredFieldsAndTermsAreRefusedOnlyToChangesMadeWithTheCurrentVersion() throws {
        let new = changed { schema in
            vocabulary(&schema, "violation_status") { $0.terms[3].deprecated = true }
            incidents(&schema) { collection in
                let location = collection.fields.firstIndex { $0.name == "location" }!
                collection.fields[location].deprecated = true
            }
        }
        let retiredTerm = FieldValue.text("disputed"), retiredField = FieldValue.text("Almaty")
        try new.validate(retiredTerm, collection: "incidents", field: "violation_status")
        try new.validate(retiredField, collection: "incidents", field: "location")
        #expect(throws: SchemaError.self) { try new.validate(retiredTerm, collection: "incidents", field: "violation_status", refusingDeprecated: true) }
        #expect(throws: SchemaError.self) { try new.validate(retiredField, collection: "incidents", field: "location", refusingDeprecated: true) }
        // Retired terms stay in the JSON, marked, and read back.
        let read = try Schema.fromJSON(try new.jsonData())
        #expect(read.vocabulary("violation_status")?.terms[3].deprecated == true)
        #expect(read.collection("incidents")?.field("location")?.deprecated == true)
        #expect(try old.jsonData() == (try Schema.fromJSON(try old.jsonData()).jsonData()))
    }

    @Test func aTermASensitiveFieldTakesIsNeverRemovedSinceSealedValuesCannotBeCounted() {
        var sealedRoles = old
        let persons = sealedRoles.collections.firstIndex { $0.name == "persons" }!
        let role = sealedRoles.collections[persons].fields.firstIndex { $0.name == "role" }!
        sealedRoles.collections[persons].fields[role].sensitive = true
        var new = sealedRoles
        new.version += 1
        vocabulary(&new, "role") { $0.terms.removeLast() }
        let refusals = SchemaEvolution(from: sealedRoles, to: new).refusals(old: sealedRoles, records: [])
        #expect(refusals.count == 1 && refusals[0].contains("a sensitive field takes it"), "\(refusals)")
    }
}
