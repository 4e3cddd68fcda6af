import Crypto
import Foundation
import Testing
@testable import Shared

/// Sealed values of sensitive fields and the wraps that carry project keys: they open only with the
/// right key, in the place they were sealed for, and any alteration is found.
@Suite struct SealedValueTests {
    let key = SymmetricKey(size: .bits256)
    let place = SealedValue.Place(project: "kz", collection: "persons", record: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", field: "name")

    @Test(arguments: [FieldValue.text("Aigerim Sultanova"), .date("1990-02-28"), .list(["+7 701", "Almaty, Abay 5"]), .integer(-4)])
    func aValueOfAnyTypeOpensAsItWasSealed(value: FieldValue) throws {
        let sealed = try SealedValue(sealing: value, key: key, keyID: "0123456789abcdef", place: place)
        let parsed = try #require(SealedValue(text: sealed.text))
        #expect(parsed == sealed && parsed.keyID == "0123456789abcdef")
        #expect(parsed.open(key: key, place: place) == value)
        #expect(!sealed.text.contains("Aigerim") && !sealed.text.contains("Almaty"))
    }

    @Test func anAlteredMovedOrWronglyKeyedValueDoesNotOpen() throws {
        let sealed = try SealedValue(sealing: .text("Aigerim"), key: key, keyID: "0123456789abcdef", place: place)
        var bytes = sealed.combined
        bytes[bytes.count - 20] ^= 1
        let altered = try #require(SealedValue(text: SealedValue.prefix + "0123456789abcdef:" + bytes.base64EncodedString()))
        #expect(altered.open(key: key, place: place) == nil)
        for moved in [SealedValue.Place(project: "kz", collection: "persons", record: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2", field: "name"),
                      SealedValue.Place(project: "kz", collection: "persons", record: place.record, field: "contact"),
                      SealedValue.Place(project: "other", collection: "persons", record: place.record, field: "name")] {
            #expect(sealed.open(key: key, place: moved) == nil)
        }
        #expect(sealed.open(key: SymmetricKey(size: .bits256), place: place) == nil)
    }

    @Test func onlyWellFormedEnvelopesParse() {
        for text in ["Aigerim", SealedValue.prefix, SealedValue.prefix + "0123456789abcdef:", SealedValue.prefix + "0123456789ABCDEF:" + Data(count: 40).base64EncodedString(),
                     SealedValue.prefix + "0123456789abcdef:" + Data(count: 27).base64EncodedString(), SealedValue.prefix + "0123456789abcdef:***"] {
            #expect(SealedValue(text: text) == nil, "\(text)")
        }
        #expect(SealedValue(text: SealedValue.prefix + "0123456789abcdef:" + Data(count: 28).base64EncodedString()) != nil)
    }

    @Test func theServerTakesOnlySealedValuesForASensitiveField() throws {
        let schema = Schema.upr
        let sealed = try SealedValue(sealing: .text("Aigerim"), key: key, keyID: "0123456789abcdef", place: place)
        func change(_ value: FieldValue) -> Change {
            Change(collection: "persons", record: place.record, field: "name", value: value, hlc: HLC(millis: 1, counter: 0, node: NodeID("a1")!), author: "ana", base: nil)
        }
        try schema.validate(change(.text(sealed.text)))
        try schema.validate(change(.unset))
        for value in [FieldValue.text("Aigerim"), .list([sealed.text]), .text(SealedValue.prefix + "nonsense")] {
            #expect(throws: SchemaError.self) { try schema.validate(change(value)) }
        }
        // Concurrent versions of a sensitive long text are not merged by content: no hook.
        var persons = try #require(schema.collection("persons"))
        persons.fields.append(FieldSchema(name: "statement", type: .longText, sensitive: true))
        #expect(FieldRules(persons).hook(for: "statement") == nil && FieldRules(persons).hook(for: "notes") != nil)
    }

    @Test func theUPRSchemaMarksNameAndContactAndFilesCannotBeSensitive() throws {
        let persons = try #require(Schema.upr.collection("persons"))
        #expect(persons.fields.filter(\.sensitive).map(\.name) == ["name", "contact"])
        // The key round-trips, and a field that is not sensitive encodes as before.
        let decoded = try Schema.fromJSON(try Schema.upr.jsonData())
        #expect(decoded == Schema.upr)
        #expect(!String(decoding: try JSONEncoder().encode(FieldSchema(name: "code", type: .text)), as: UTF8.self).contains("sensitive"))
        var schema = Schema.upr
        schema.collections[0].fields.append(FieldSchema(name: "scans", type: .files, sensitive: true))
        #expect(throws: SchemaError.self) { try schema.check() }
    }

    @Test func aWrapOpensOnlyOnItsDeviceAndOnlyItsGrantersSignatureHolds() throws {
        let device = Curve25519.KeyAgreement.PrivateKey(), granter = Curve25519.Signing.PrivateKey()
        let node = NodeID("00000000000000aa")!, granterNode = NodeID("00000000000000bb")!
        let wrap = try ProjectKeyWrap.wrap(key, keyID: "0123456789abcdef", project: "kz", node: node, recipient: device.publicKey,
                                           granter: granterNode, signingKey: granter)
        #expect(ProjectKeyWrap.verify(wrap, project: "kz", granterKey: granter.publicKey))
        let opened = try ProjectKeyWrap.open(wrap, project: "kz", node: node, privateKey: device)
        #expect(opened.withUnsafeBytes { Data($0) } == key.withUnsafeBytes { Data($0) })
        // Another device, another project, another signer, altered bytes: refused.
        #expect(throws: ProjectKeyWrap.Problem.self) { try ProjectKeyWrap.open(wrap, project: "kz", node: node, privateKey: .init()) }
        #expect(throws: ProjectKeyWrap.Problem.self) { try ProjectKeyWrap.open(wrap, project: "other", node: node, privateKey: device) }
        #expect(!ProjectKeyWrap.verify(wrap, project: "other", granterKey: granter.publicKey))
        #expect(!ProjectKeyWrap.verify(wrap, project: "kz", granterKey: Curve25519.Signing.PrivateKey().publicKey))
        var altered = wrap
        var bytes = try #require(Data(base64Encoded: wrap.wrapped))
        bytes[40] ^= 1
        altered.wrapped = bytes.base64EncodedString()
        #expect(!ProjectKeyWrap.verify(altered, project: "kz", granterKey: granter.publicKey))
        #expect(throws: ProjectKeyWrap.Problem.self) { try ProjectKeyWrap.open(altered, project: "kz", node: node, privateKey: device) }
        var renamed = wrap
        renamed.keyID = "fedcba9876543210"
        #expect(!ProjectKeyWrap.verify(renamed, project: "kz", granterKey: granter.publicKey))
    }
}
