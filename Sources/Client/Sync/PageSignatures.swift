import Foundation
import Shared

/// Checks the signatures of pulled pages before anything of them is applied (docs/protocol.md,
/// "Signatures"): every change must be in a batch whose signature holds under the registered key
/// of a device of the change's author. Only changes up to where the project's unsigned history
/// ends (pinned the first time the server said it) may come without one. A page that fails is
/// refused whole with a `ClientError` that names the record and field.
struct PageSignatures {
    /// The checker, with the devices as pulled at the start of the sync.
    var check: SignatureCheck
    /// Where the unsigned changes end, as pinned; nil until a page said it.
    var unsignedUpTo: Int64?
    /// The server's address, for messages.
    let server: String

    /// Checks one page. `pageUnsignedUpTo` is what the page says; `digests`, when given, are the
    /// changes' digests in order. Returns the pin to keep when it was learnt from this page.
    mutating func verify(_ changes: [Wire.LoggedChange], digests: [ChangeDigest]? = nil, batches: [SignedBatch],
                         pageUnsignedUpTo: Int64?) throws -> Int64? {
        var learnt: Int64?
        // Pinned from the first page that says it, even an empty one: a replica whose pulls skip its
        // own changes may see no change for a while.
        if let said = pageUnsignedUpTo {
            if let pinned = unsignedUpTo {
                guard said <= pinned else {
                    throw refused("it now says the project's unsigned history ends at \(said), not at \(pinned) as it said before: the server's store may have been altered; tell the project's admin")
                }
            } else {
                unsignedUpTo = said
                learnt = said
            }
        }
        guard !changes.isEmpty else { return learnt }
        guard pageUnsignedUpTo != nil else {
            throw refused("it does not sign changes (a server older than this casebook): upgrade the server")
        }
        let digests = digests?.count == changes.count ? digests ?? [] : ChangeDigest.of(changes.lazy.map(\.change), project: check.project)
        // Only the page's own digests are looked up in its batches (a batch spans pages).
        let (problems, holders) = check.locate(digests, authors: changes.map(\.change.author), in: batches)
        if let problem = problems.first {
            throw refused("\(problem): the server's store may have been altered; tell the project's admin")
        }
        for (index, logged) in changes.enumerated() {
            let node = holders[index].map { batches[$0].node }
            if case .failure(let unsigned) = check.attribute(logged.change, to: node), logged.seq > unsignedUpTo ?? 0 {
                let change = logged.change
                throw refused("the change to \(change.collection) \(change.record) field \(change.field) (\(change.hlc)) does not carry a valid signature: \(unsigned.reason). The server's store may have been altered; tell the project's admin")
            }
        }
        return learnt
    }

    private func refused(_ reason: String) -> ClientError {
        ClientError("refused what the server at \(server) sent, nothing of it was applied: \(reason)")
    }
}
