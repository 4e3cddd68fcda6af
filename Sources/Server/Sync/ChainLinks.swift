import Foundation
import Shared

/// The links a push appends to its project's hash-chained log (`LogChain`): each accepted change's
/// digest, as stored (with the author the server recorded), and the chain value at its sequence
/// number; and the link of a membership event, the log's other kind of entry. Both stores compute
/// them here, under the lock that assigns the numbers, so every store and instance gives the same
/// entries the same chain.
struct ChainLinks {
    /// One appended entry's digest and chain value (the embedded store keeps their bytes, PostgreSQL
    /// their hex text).
    struct Link {
        let digest: ChangeDigest
        let chain: LogChain
        var digestHex: String { digest.hex }
        var chainHex: String { chain.hex }
    }

    /// A link per change of `inserts` (numbered on from `head`'s entry), in their order.
    let links: [Link]
    /// The chain value at the last of them.
    let head: LogChain

    /// `known` holds digests computed already (`PushSignatures`), taken only for a change stored
    /// exactly as it was checked.
    init(_ inserts: [Wire.LoggedChange], project: String, after head: LogChain,
         known: [HLC: (change: Change, digest: ChangeDigest)] = [:]) {
        var value = head
        var links: [Link] = []
        links.reserveCapacity(inserts.count)
        for logged in inserts {
            let digest: ChangeDigest
            if let checked = known[logged.change.hlc], checked.change == logged.change {
                digest = checked.digest
            } else {
                digest = ChangeDigest(of: logged.change, project: project)
            }
            value = value.appending(seq: logged.seq, digest: digest)
            links.append(Link(digest: digest, chain: value))
        }
        self.links = links
        self.head = value
    }

    /// The link of a membership event (`user` joining or leaving `group`) numbered `seq`, chained on
    /// from `head`, the value at `seq - 1` (`ChangeDigest(membershipOf:...)`), with the nonce drawn
    /// for it, which the store keeps with the event.
    static func membership(of user: String, group: String, joined: Bool, seq: Int64, project: String,
                           after head: LogChain) -> (link: Link, nonce: String) {
        let nonce = ChangeDigest.membershipNonce()
        let digest = ChangeDigest(membershipOf: user, group: group, joined: joined, seq: seq, nonce: nonce, project: project)
        return (Link(digest: digest, chain: head.appending(seq: seq, digest: digest)), nonce)
    }

    /// The chain value stored for the project's last entry (nil before the first: genesis), as hex text.
    static func head(stored text: String?, lastSeq: Int64) throws -> LogChain {
        try head(stored: text.flatMap { LogChain(hex: $0) }, lastSeq: lastSeq)
    }

    /// The chain value stored for the project's last entry (nil before the first, or not readable).
    static func head(stored value: LogChain?, lastSeq: Int64) throws -> LogChain {
        guard lastSeq > 0 else { return .genesis }
        guard let value else {
            throw StoreDefect(description: "the log's chain value at sequence number \(lastSeq) is missing or damaged: restore the store from a backup")
        }
        return value
    }
}
