import Foundation

/// The one place the client reads the system's time, in milliseconds since the epoch.
enum WallClock {
    /// The device's own time.
    static func millis() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000))
    }

    /// The server's time minus the device's, from a time the server sent just now.
    static func offset(toServerTime serverTime: UInt64) -> Int64 {
        Int64(clamping: serverTime) &- Int64(clamping: millis())
    }

    /// The device's time corrected by an offset learned from the server.
    static func millis(offset: Int64) -> UInt64 {
        let corrected = Int64(clamping: millis()).addingReportingOverflow(offset)
        return corrected.overflow ? (offset > 0 ? UInt64(Int64.max) : 0) : UInt64(max(0, corrected.partialValue))
    }
}
