import Foundation
import GRDB
import Shared

/// The server keys a replica accepts (`Setting.serverKeys`).
extension Replica {
    /// Replaces the accepted keys.
    func pinServerKeys(_ pins: ServerKeyPins) async throws {
        try await write { db in try Setting.set(.serverKeys, pins.keys.isEmpty ? nil : pins.stored, db) }
    }

    /// Keeps what the server showed over a connection that passed `pinned` (`ServerKeyPins.after`);
    /// returns what changed, in words for the user.
    func keepServerKeys(presented: ServerKey?, announced: [ServerKey]?, pinned: ServerKeyPins) async throws -> [String] {
        guard let presented else { return [] }
        let updated = pinned.after(presented: presented, announced: announced)
        guard updated != pinned else { return [] }
        try await pinServerKeys(updated)
        return updated.notes(from: pinned)
    }
}
