import Crypto
import Foundation

/// The digest of a membership event: a user joining or leaving one of a project's groups
/// (need-to-know). Such an event takes a sequence number of its own and has no change, so it is a
/// log entry of its own kind, chained (`LogChain`) by this digest as a change is by its.
///
/// Its canonical encoding starts with a tag of its own, `casebook-membership-v1` (a change's is
/// `casebook-change-v1`), so no event's encoding is ever a change's; then six parts, each as a
/// 4-byte big-endian length and its UTF-8 bytes: project, what happened (`join` or `leave`), the
/// group, the user's name, the event's sequence number in decimal, and a nonce: 32 random bytes
/// the server draws for the event and keeps, as 64 hex digits. Replicas only ever receive this
/// digest (no replica recomputes it), and the nonce keeps anyone who can guess the few other parts
/// (a member who knows the group names) from confirming who joined or left which group.
extension ChangeDigest {
    /// The digest of `user` joining (`joined`) or leaving `group` at sequence number `seq` of `project`.
    package init(membershipOf user: String, group: String, joined: Bool, seq: Int64, nonce: String, project: String) {
        // A SHA-256 is always 32 bytes.
        self.init(bytes: SHA256.hash(data: ChangeDigest.membershipEncoding(of: user, group: group, joined: joined, seq: seq, nonce: nonce,
                                                                            project: project)))!
    }

    /// The bytes that are hashed: stable across versions, stores and platforms.
    package static func membershipEncoding(of user: String, group: String, joined: Bool, seq: Int64, nonce: String, project: String) -> [UInt8] {
        var out: [UInt8] = Array("casebook-membership-v1".utf8)
        for part in [project, joined ? "join" : "leave", group, user, String(seq), nonce] { out.appendLengthPrefixed(part) }
        return out
    }

    /// A new nonce for a membership event: 32 random bytes as 64 lower-case hex digits.
    package static func membershipNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
