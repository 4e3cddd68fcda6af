import Foundation
import Shared
import Synchronization

/// A project's schema from the JSON text its store keeps, decoded and checked once per text: every
/// push reads its project's schema, and decoding it again took about 7% of a push's transaction
/// on the embedded store (docs/performance.md, "The project's schema decoded once").
enum StoredSchema {
    /// The last text decoded for each project, with its schema.
    private static let decoded = Mutex<[String: (text: String, schema: Schema)]>([:])

    /// The schema `text` holds; `project` names the cache's entry (a changed schema replaces it).
    static func decode(_ text: String, project: String) throws -> Schema {
        // Byte for byte: `==` would take a text that only changes a label's Unicode normalisation for the same.
        if let known = decoded.withLock({ $0[project] }), known.text.utf8.elementsEqual(text.utf8) { return known.schema }
        let schema = try Schema.fromJSON(Data(text.utf8))
        decoded.withLock { $0[project] = (text, schema) }
        return schema
    }
}
