import Foundation
import Shared

/// The server keys a replica accepts, and how an exchange changes them. Decisions only: the
/// transport checks `accepts` before it sends a byte, and the command stores `after(...)`.
///
/// Announced keys are learned only from an answer that came over a connection whose key this
/// replica already accepted: an interceptor cannot announce its own key, since it never gets a
/// connection past the check. (A replica with no pin yet trusts the first key it meets, as `init`
/// does, and so trusts that server's announcement too.)
struct ServerKeyPins: Equatable, Sendable {
    /// The accepted keys, the one the server presented last first; empty: none pinned yet.
    var keys: [ServerKey]

    init(_ keys: [ServerKey] = []) { self.keys = keys }

    /// Reads the stored form (the header's: comma-separated); nil for text that is not a list of keys.
    init?(stored: String) {
        guard let keys = ServerKey.list(stored) else { return nil }
        self.keys = keys
    }

    /// The stored form.
    var stored: String { ServerKey.header(keys) }

    /// Whether a connection to a server presenting `presented` may carry requests.
    func accepts(_ presented: ServerKey) -> Bool {
        keys.isEmpty || keys.contains(presented)
    }

    /// What to accept after an exchange over a connection that presented `presented` and passed
    /// `accepts`, whose answer listed `announced` (nil: no header, or one that could not be read).
    /// The server's own list wins when it names the key it presented: announced keys are added,
    /// and a key it no longer lists (the old one after a switch, or an announcement withdrawn) is
    /// dropped. A list that leaves out the presented key is ignored (it would lock this replica
    /// out of the very server it is talking to).
    func after(presented: ServerKey, announced: [ServerKey]?) -> ServerKeyPins {
        if let announced, announced.contains(presented) {
            return ServerKeyPins([presented] + announced.filter { $0 != presented })
        }
        return ServerKeyPins([presented] + keys.filter { $0 != presented })
    }

    /// What changed from `old` to these pins, in words for the user (nothing for a new order).
    func notes(from old: ServerKeyPins) -> [String] {
        guard let current = keys.first else { return [] }
        if old.keys.isEmpty { return ["pinned the server's key \(current): a server presenting another is refused from now on"] }
        let added = keys.filter { !old.keys.contains($0) && $0 != current }
        let dropped = old.keys.filter { !keys.contains($0) }
        return added.map { "the server announced its next key \($0): this replica will accept it when the server switches" }
            + dropped.map { "the server no longer lists the key \($0): this replica stops accepting it" }
    }
}
