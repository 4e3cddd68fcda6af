import Foundation

extension LogChain {
    /// Why a pull page does not extend the chain a replica verified: the problem, for people.
    package struct Break: Error, Equatable, Sendable {
        package let problem: String
    }

    /// Checks that a pull page answering `after` and ending at `cursor` extends `head`, the value
    /// this replica verified at `after`, and returns the value at `cursor`.
    ///
    /// Every sequence number in `(after, cursor]` is either one of `changes` (its digest computed
    /// here, from the change as received) or the next of the page's withheld digests. `head` nil
    /// means the replica has verified nothing yet (it joined before the chain existed): the page's
    /// own `after` is taken on trust, as a snapshot's value is. `digests`, when given, are the
    /// digests of `changes` in order (the caller computed them for the signatures already).
    package static func verify(_ changes: [Wire.LoggedChange], digests: [ChangeDigest]? = nil, after: Int64, cursor: Int64,
                               chain: Wire.PageChain, head: LogChain?, project: String) throws(Break) -> LogChain {
        if let head, head != chain.after {
            throw Break(problem: """
                its log up to sequence number \(after), which this replica has already received and verified, is not what it was \
                (its chain value there is \(chain.after.hex.prefix(16))…, this replica verified \(head.hex.prefix(16))…): \
                an entry was altered, dropped or reordered
                """)
        }
        let covered = cursor - after
        guard digests == nil || digests?.count == changes.count else {
            throw Break(problem: "the page's digests do not match its changes")
        }
        guard covered >= 0, Int64(changes.count) + Int64(chain.withheld.count) == covered else {
            throw Break(problem: """
                a pull page from \(after) to \(cursor) covers \(max(covered, 0)) entries but holds \(changes.count) changes \
                and \(chain.withheld.count) withheld digests
                """)
        }
        var value = chain.after
        var next = changes.startIndex
        var withheld = chain.withheld.startIndex
        var seq = after
        while seq < cursor {
            seq += 1
            let digest: ChangeDigest
            if next < changes.endIndex, changes[next].seq == seq {
                digest = digests?[next] ?? ChangeDigest(of: changes[next].change, project: project)
                next += 1
            } else if withheld < chain.withheld.endIndex {
                digest = chain.withheld[withheld]
                withheld += 1
            } else {
                throw Break(problem: "a pull page from \(after) to \(cursor) has no entry and no withheld digest for sequence number \(seq)")
            }
            value = value.appending(seq: seq, digest: digest)
        }
        guard next == changes.endIndex else {
            throw Break(problem: "a pull page from \(after) to \(cursor) holds its changes out of order or twice")
        }
        guard value == chain.cursor else {
            throw Break(problem: """
                the entries of a pull page from \(after) to \(cursor) do not lead to the chain value the server gives for \(cursor): \
                an entry was altered, dropped or reordered
                """)
        }
        return value
    }
}
