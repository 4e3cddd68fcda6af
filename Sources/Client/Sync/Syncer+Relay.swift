import Foundation
import Shared

extension Syncer {
    /// Pushes the relay queue (changes received in bundles, and this replica's own published in one)
    /// with the batches that signed them, oldest first. The server credits each change to its signing
    /// device's owner; a change it already holds is a duplicate and leaves the queue all the same.
    /// A server that refuses relaying (one from before it) leaves the queue as it is, with a note.
    func relay(_ state: inout SyncState) async throws -> (relayed: Int, refused: [(hlc: HLC, reason: String)]) {
        var relayed = 0
        var refused: [(hlc: HLC, reason: String)] = []
        var after: HLC?
        while true {
            let (changes, batches) = try await replica.relayable(after: after, limit: pushBatch)
            guard let last = changes.last else { break }
            let response: Wire.PushResponse
            do {
                response = try await client.push(changes, batches: batches)
            } catch let error as ClientError where error.status == 422 || error.status == 403 {
                Output.note("the server did not take the changes received in bundles (\(error.message)): they stay queued for the next sync")
                break
            }
            _ = try PageCheck.serverTime(response.serverTime, from: settings.server.absoluteString)
            let record = try await replica.recordRelay(response, node: settings.node, state: state)
            state = record.state
            relayed += record.relayed
            refused += record.refused
            after = last.hlc
            progress.update("relaying changes from bundles", done: relayed, total: nil)
        }
        return (relayed, refused)
    }
}
