import Foundation

/// A failure a user can act on: one line, and the exit code the contract gives it.
struct ClientError: Error, CustomStringConvertible {
    /// Exit code 3: `sync` or `init` could not reach the server.
    static let unreachableExitCode: Int32 = 3
    /// Exit code 4: the replica is locked (no key, another replica's key) or the passphrase is wrong.
    static let lockedExitCode: Int32 = 4
    /// Exit code 5: the server's key is not the pinned one (`ServerKeyMismatch`).
    static let identityChangedExitCode: Int32 = 5

    var message: String
    var exitCode: Int32
    /// The HTTP status when the server refused a request.
    var status: Int?

    init(_ message: String, exitCode: Int32 = 1, status: Int? = nil) {
        self.message = message
        self.exitCode = exitCode
        self.status = status
    }

    var description: String { message }
}
