import Foundation
import Shared

/// The links a push appends to its project's hash-chained log (`LogChain`): each accepted change's
/// digest, as stored (with the author the server recorded), and the chain value at its sequence
/// number. Both stores compute them here, under the lock that assigns the numbers, so every store
/// and instance gives the same changes the same chain.
struct ChainLinks {
    /// One appended entry's digest and chain value, as the stores keep them (hex text).
    struct Link {
        let digest: String
        let chain: String
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
            links.append(Link(digest: digest.hex, chain: value.hex))
        }
        self.links = links
        self.head = value
    }

    /// The chain value stored for the project's last entry (nil before the first: genesis).
    static func head(stored text: String?, lastSeq: Int64) throws -> LogChain {
        guard lastSeq > 0 else { return .genesis }
        guard let text, let value = LogChain(hex: text) else {
            throw StoreDefect(description: "the log's chain value at sequence number \(lastSeq) is missing or damaged: restore the store from a backup")
        }
        return value
    }
}
