import Foundation
import Shared

/// What a push is checked against besides the schema: the time of receipt and the clock bound.
struct PushPolicy: Sendable {
    /// The server's wall clock at receipt, milliseconds since the epoch.
    var now: UInt64
    /// How far ahead of `now` a change's timestamp may be.
    var maxDriftMillis: UInt64
    /// The oldest schema version the pushed changes were made with (nil: unknown, an older replica).
    var schemaVersion: Int? = nil
}
