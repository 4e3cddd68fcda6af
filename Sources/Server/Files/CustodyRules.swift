import Foundation
import Shared

/// What the server accepts in a custody push, and the event it writes itself.
enum CustodyRules {
    /// Longest id, record, replica and name, in Unicode scalars (as JSON Schema's maxLength counts).
    static let maxIDBytes = 128
    static let maxNameBytes = 1_024

    /// What is wrong with an event a replica sent, nil when nothing is.
    static func problem(_ event: Wire.CustodyEvent) -> String? {
        if event.event == .received { return "a 'received' event is written by the server only, not sent by a replica" }
        guard FileRef.isSHA256(event.sha256) else { return "the sha256 '\(event.sha256.prefix(80))' is not 64 lower-case hex digits" }
        guard (1...maxIDBytes).contains(event.id.unicodeScalars.count), !hasControl(event.id) else {
            return "an event id must be 1 to \(maxIDBytes) characters without control characters"
        }
        for (label, text, limit) in [("record", event.record, maxIDBytes), ("replica", event.replica, maxIDBytes), ("name", event.name, maxNameBytes)] {
            if let text, text.unicodeScalars.count > limit || hasControl(text) {
                return "the \(label) of event \(event.id) is longer than \(limit) characters or holds control characters"
            }
        }
        if let size = event.size, !(0...FileRef.maxSize).contains(size) {
            return "the size of event \(event.id) is not between 0 and \(FileRef.maxSize) bytes"
        }
        return nil
    }

    /// The event the server appends when a file becomes complete, by the user whose chunk completed it.
    static func received(_ sha256: String, size: Int64, by user: String, now: UInt64) -> Wire.CustodyEvent {
        Wire.CustodyEvent(id: "server-" + StoredFile.newUpload(), sha256: sha256, event: .received, by: user, at: now, size: size)
    }

    private static func hasControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }
}
