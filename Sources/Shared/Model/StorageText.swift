import Foundation

/// The text forms stores use for values and lists of timestamps (server and replica alike).
package enum StorageText {
    /// A value as compact JSON text.
    package static func encode(_ value: FieldValue) -> String {
        // Encoding a FieldValue cannot fail: every case is plain strings, numbers and booleans.
        (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? #"{"type":"unset"}"#
    }

    /// A value from its JSON text.
    package static func decodeValue(_ text: String) throws -> FieldValue {
        try JSONDecoder().decode(FieldValue.self, from: Data(text.utf8))
    }

    /// Timestamps as comma-separated text, nil for none.
    package static func encode(_ hlcs: [HLC]) -> String? {
        hlcs.isEmpty ? nil : hlcs.map(\.text).joined(separator: ",")
    }

    /// Timestamps from comma-separated text.
    package static func decodeHLCs(_ text: String?) throws -> [HLC] {
        guard let text, !text.isEmpty else { return [] }
        return try text.split(separator: ",").map { try decodeHLC(String($0)) }
    }

    /// One timestamp from its text, or an error naming the damaged value.
    package static func decodeHLC(_ text: String) throws -> HLC {
        guard let hlc = HLC(text: text) else { throw DamagedData(text: text) }
        return hlc
    }

    /// Stored text that is not what it should be.
    package struct DamagedData: Error, CustomStringConvertible {
        package let text: String
        package var description: String { "the database holds a damaged timestamp '\(text.prefix(60))'" }
    }
}
