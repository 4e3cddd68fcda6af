import Foundation
import Shared

extension Syncer {
    /// Pushes the relay queue (changes received in bundles, and this replica's own published in one)
    /// with the batches that signed them, oldest first. The server credits each change to its signing
    /// device's owner; a change it already holds is a duplicate and leaves the queue all the same.
    /// A server that refuses relaying (one from before it) leaves the queue as it is, with a note.
    /// A push the server refuses whole because of one author or device (revoked, or no longer allowed
    /// to push: `403`) is split by device, so that the others' changes still go; the refused device's
    /// changes leave the queue, reported with the server's reason (their authors' replicas hold them).
    func relay(_ state: inout SyncState) async throws -> (relayed: Int, refused: [(hlc: HLC, reason: String)]) {
        var outcome = RelayOutcome()
        var after: HLC?
        while true {
            let (changes, batches) = try await replica.relayable(after: after, limit: pushBatch)
            guard let last = changes.last else { break }
            do {
                try await relayPart(changes, batches, &state, &outcome)
            } catch let error as ClientError where error.status == 403 {
                let devices = Dictionary(grouping: changes, by: \.hlc.node)
                for node in devices.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
                    let part = devices[node] ?? []
                    do {
                        try await relayPart(part, batches.filter { $0.node == node }, &state, &outcome)
                    } catch let error as ClientError where error.status == 403 && node != settings.node {
                        // This replica's own changes are never dropped: a refusal of those fails the sync, as a push would.
                        let dropped = try await replica.dropRelay(node: node)
                        outcome.refused += dropped.map { ($0, error.message) }
                    }
                }
            } catch let error as ClientError where error.status == 422 {
                Output.note("the server did not take the changes received in bundles (\(error.message)): they stay queued for the next sync")
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

    private func relayPart(_ changes: [Change], _ batches: [SignedBatch], _ state: inout SyncState, _ outcome: inout RelayOutcome) async throws {
        let response = try await client.push(changes, batches: batches)
        _ = try PageCheck.serverTime(response.serverTime, from: settings.server.absoluteString)
        let record = try await replica.recordRelay(response, node: settings.node, state: state)
        state = record.state
        outcome.relayed += record.relayed
        outcome.refused += record.refused
    }
}
