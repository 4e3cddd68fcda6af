import Foundation

/// A failure a user can act on: one line, and the exit code the contract gives it.
struct ClientError: Error, CustomStringConvertible {
    /// Exit code 3: `sync` or `init` could not reach the server.
    static let unreachableExitCode: Int32 = 3

    var message: String
    var exitCode: Int32

    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { message }
}
