import Foundation
import Shared

/// The server presented a key this replica does not accept: possibly an interception (a
/// certificate from an authority the system trusts, such as a state's own root), possibly a
/// replaced server key. The connection was closed before a byte of a request went out. Exit 5.
struct ServerKeyMismatch: Error, CustomStringConvertible {
    let server: URL
    let presented: ServerKey
    let pinned: [ServerKey]

    var description: String {
        let pinnedText = pinned.map(\.text).joined(separator: " or ")
        return "the server's identity changed: \(server) presented the key \(presented) but this replica pinned \(pinnedText). "
            + "Someone may be intercepting the connection, or the server's key was replaced. Nothing was sent; your local changes are kept. "
            + "If your team announced a new key, check its fingerprint with them (not over this network) and run 'casebook pin \(presented)'"
    }
}
