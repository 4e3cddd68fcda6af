import Crypto
import Foundation

/// A sensitive field's value as it travels and is stored: `casebook-sealed:v1:KEYID:B64`, where B64 is the
/// base64 of ChaChaPoly's nonce, ciphertext and tag over the value's stored text (`StorageText`), so a field
/// of any type seals alike. The associated data binds the project, collection, record and field, so a server
/// cannot move a sealed value to another record or field (docs/protocol.md, "Sensitive fields").
package struct SealedValue: Sendable, Hashable {
    /// What every sealed value starts with.
    package static let prefix = "casebook-sealed:v1:"
    /// Nonce and tag around the ciphertext.
    private static let overhead = 12 + 16

    /// The id of the project key it is sealed with.
    package let keyID: String
    /// Nonce, ciphertext and tag.
    package let combined: Data

    /// The envelope as the field's text value.
    package var text: String { Self.prefix + keyID + ":" + combined.base64EncodedString() }

    /// Parses an envelope; nil when `text` is not a well-formed one (the server's check: it never decrypts).
    package init?(text: String) {
        guard text.hasPrefix(Self.prefix) else { return nil }
        let rest = text.dropFirst(Self.prefix.count)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let id = String(rest[..<colon])
        guard ProjectKeyID.isValid(id), let combined = Data(base64Encoded: String(rest[rest.index(after: colon)...])),
              combined.count >= Self.overhead else { return nil }
        keyID = id
        self.combined = combined
    }

    /// Seals `value` for one field of one record.
    package init(sealing value: FieldValue, key: SymmetricKey, keyID: String, place: Place) throws {
        let box = try ChaChaPoly.seal(Data(StorageText.encode(value).utf8), using: key, authenticating: place.associatedData)
        self.keyID = keyID
        combined = box.combined
    }

    /// The value, or nil when `key` is not the one it was sealed with or the envelope was altered or moved.
    package func open(key: SymmetricKey, place: Place) -> FieldValue? {
        guard let box = try? ChaChaPoly.SealedBox(combined: combined),
              let plain = try? ChaChaPoly.open(box, using: key, authenticating: place.associatedData),
              let text = String(data: plain, encoding: .utf8) else { return nil }
        return try? StorageText.decodeValue(text)
    }

    /// Where a sealed value belongs: it opens only there.
    package struct Place: Sendable, Hashable {
        package var project: String
        package var collection: String
        package var record: String
        package var field: String

        package init(project: String, collection: String, record: String, field: String) {
            self.project = project
            self.collection = collection
            self.record = record
            self.field = field
        }

        var associatedData: Data {
            var bytes: [UInt8] = Array("casebook-sealed-v1".utf8)
            for part in [project, collection, record, field] { bytes.appendLengthPrefixed(part) }
            return Data(bytes)
        }
    }

    /// The longest envelope a value within the schema's limits can make (a `long_text` of 4,000,000 bytes in base64).
    package static let maxLength = prefix.count + ProjectKeyID.length + 1 + (4_000_002 + 2 + overhead) / 3 * 4 + 8
}

/// Project key ids: 16 lower-case hex digits, random.
package enum ProjectKeyID {
    package static let length = 16

    /// Whether `id` is 16 lower-case hex digits.
    package static func isValid(_ id: String) -> Bool {
        id.utf8.count == length && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// A new random id.
    package static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(format: "%016llx", generator.next() as UInt64)
    }
}
