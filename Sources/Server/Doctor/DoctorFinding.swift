import Foundation

/// One thing `doctor` looked at, and what it found.
struct DoctorFinding: Equatable, Sendable, Encodable {
    enum Status: String, Sendable, Encodable {
        /// As it should be.
        case ok
        /// Worth knowing; nothing to fix.
        case note
        /// Works, but should be fixed.
        case warning
        /// `serve` would fail or be unsafe: doctor exits 1.
        case failed
    }

    var status: Status
    /// What was checked: "data folder", "store", "TLS", "clock", "disk space".
    var check: String
    /// What was found and, unless all is well, what to do.
    var message: String

    init(_ status: Status, _ check: String, _ message: String) {
        self.status = status
        self.check = check
        self.message = message
    }
}
