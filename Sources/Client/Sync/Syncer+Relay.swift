import Foundation
import Shared

extension Syncer {
    /// Pushes the relay queue (changes received in bundles, and this replica's own published in one)
    /// with the batches that signed them, oldest first. The server credits each change to its signing
    /// device's owner; a change it already holds is a duplicate and leaves the queue all the same.
    /// A push the server refuses whole because of one device or author (revoked, or no longer allowed
    /// to push: a `403` that names them) is pushed again device by device, so that the others' changes
    /// still go; the changes of a device so refused leave the queue, reported with the server's reason
    /// (their authors' replicas hold them). Any other refusal (a server from before relaying, this
    /// user not allowed to push, this replica's own device) leaves the queue as it is, with a note,
    /// and the sync goes on to pull.
    func relay(_ state: inout SyncState) async throws -> (relayed: Int, refused: [(hlc: HLC, reason: String)]) {
        var outcome = RelayOutcome()
        var after: HLC?
        relaying: while true {
            let (changes, batches) = try await replica.relayable(after: after, limit: pushBatch)
            guard let last = changes.last else { break }
            do {
                try await relayPart(changes, batches, &state, &outcome)
            } catch let error as ClientError where error.status == 403 && names(error, changes) {
                let devices = Dictionary(grouping: changes, by: \.hlc.node)
                for node in devices.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
                    let part = devices[node] ?? []
                    do {
                        try await relayPart(part, batches.filter { $0.node == node }, &state, &outcome)
                    } catch let error as ClientError where error.status == 403 && node != settings.node && names(error, part) {
                        let dropped = try await replica.dropRelay(node: node)
                        outcome.refused += dropped.map { ($0, error.message) }
                    } catch let error as ClientError where error.status == 403 || error.status == 422 {
                        keep(error)
                        break relaying
                    }
                }
            } catch let error as ClientError where error.status == 403 || error.status == 422 {
                keep(error)
                break
            }
            after = last.hlc
            progress.update("relaying changes from bundles", done: outcome.relayed, total: nil)
        }
        return (outcome.relayed, outcome.refused)
    }

    private struct RelayOutcome {
        var relayed = 0
        var refused: [(hlc: HLC, reason: String)] = []
    }

    /// Whether the server's refusal names one of `changes`' devices or authors: the server says
    /// "device NODE was revoked" or "relays changes of AUTHOR, who may not push". A refusal of this
    /// user or of the request names neither.
    private func names(_ error: ClientError, _ changes: [Change]) -> Bool {
        changes.contains { change in
            (change.hlc.node != settings.node && error.message.contains("device \(change.hlc.node.rawValue) "))
                || (change.author != settings.user && error.message.contains("changes of \(change.author),"))
        }
    }

    private func keep(_ error: ClientError) {
        Output.note("the server did not take the changes received in bundles (\(error.message)): they stay queued for the next sync")
    }

    private func relayPart(_ changes: [Change], _ batches: [SignedBatch], _ state: inout SyncState, _ outcome: inout RelayOutcome) async throws {
        let response = try await client.push(changes, batches: batches)
        _ = try PageCheck.serverTime(response.serverTime, from: settings.server.absoluteString)
        let record = try await replica.recordRelay(response, node: settings.node, state: state)
        state = record.state
        outcome.relayed += record.relayed
        outcome.refused += record.refused
    }
}
