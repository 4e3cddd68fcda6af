import Crypto
import Foundation

/// The digest of a membership event: a user joining or leaving one of a project's groups
/// (need-to-know). Such an event takes a sequence number of its own and has no change, so it is a
/// log entry of its own kind, chained (`LogChain`) by this digest as a change is by its.
///
/// Its canonical encoding starts with a tag of its own, `casebook-membership-v1` (a change's is
/// `casebook-change-v1`), so no event's encoding is ever a change's; then five parts, each as a
/// 4-byte big-endian length and its UTF-8 bytes: project, what happened (`join` or `leave`), the
/// group, the user's name, and the event's sequence number in decimal.
extension ChangeDigest {
    /// The digest of `user` joining (`joined`) or leaving `group` at sequence number `seq` of `project`.
    package init(membershipOf user: String, group: String, joined: Bool, seq: Int64, project: String) {
        bytes = Array(SHA256.hash(data: ChangeDigest.membershipEncoding(of: user, group: group, joined: joined, seq: seq, project: project)))
    }

    /// The bytes that are hashed: stable across versions, stores and platforms.
    package static func membershipEncoding(of user: String, group: String, joined: Bool, seq: Int64, project: String) -> [UInt8] {
        var out: [UInt8] = Array("casebook-membership-v1".utf8)
        for part in [project, joined ? "join" : "leave", group, user, String(seq)] {
            let count = UInt32(part.utf8.count)
            out.append(contentsOf: [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)])
            out.append(contentsOf: part.utf8)
        }
        return out
    }
}
