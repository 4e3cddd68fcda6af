import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Sync: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send your pending edits to the server and fetch everyone else's.",
            discussion: """
                Attached files the server lacks are uploaded after the edits, in chunks; their custody events go both \
                ways. Safe to interrupt: what was received is kept, and the next sync continues where this one stopped \
                (an upload or download resumes at its last chunk). Exit 3 when the server cannot be reached.
                """)

        @Flag(help: "Print {\"pushed\", \"pulled\", \"conflicts\", \"rejected\"}.")
        var json = false

        @Flag(help: "Also download the content of every attached file not yet here (otherwise only on 'casebook fetch').")
        var files = false

        @Option(name: .customLong("batch-size"), help: "Changes sent per request; smaller batches resend less after a cut connection. A request also ends at about 8 MiB (a larger change goes alone).")
        var batchSize = 5_000

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws {
            guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 10000") }
        }

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            try ServerAddress.check(settings.server, insecure: settings.insecure)
            if settings.insecure && settings.server.scheme == "http" && !ServerAddress.isLoopback(settings.server) {
                Output.note("warning: syncing over plain http: anyone on the network can read your records and token")
            }
            let token = try replica.token()
            let address = try settings.address()
            let report = try await SyncClient.with(address: address, project: settings.project, token: token) { client in
                var syncer = Syncer(replica: replica, client: client, settings: settings, progress: ProgressLine())
                syncer.pushBatch = batchSize
                do {
                    var report = try await syncer.run()
                    let download = files ? try await replica.filesToFetch([], all: true, schema: settings.schema) : []
                    report.files = try await FileSyncer(replica: replica, transport: client, settings: settings, progress: ProgressLine())
                        .run(custodySeq: report.custodySeq, upload: report.pushForbidden == nil, download: download)
                    try await keepServerKeys(client, pinned: address.pins, replica: replica)
                    return report
                } catch {
                    // What the server announced over a checked connection counts even if the sync failed later.
                    try? await keepServerKeys(client, pinned: address.pins, replica: replica)
                    throw error
                }
            }
            if report.removal.records > 0 {
                let (records, dropped) = (report.removal.records, report.removal.dropped)
                Output.note("removed \(records) record\(records == 1 ? "" : "s") you may no longer read from this replica"
                            + (dropped > 0 ? "; dropped \(dropped) pending edit\(dropped == 1 ? "" : "s") of them (the server would refuse them)" : ""))
            }
            // One line per reason: a revoked author's whole queue is refused for one reason.
            for (reason, refused) in Dictionary(grouping: report.relayRefused, by: \.reason).sorted(by: { $0.key < $1.key }) {
                let first = refused.map(\.hlc.text).min() ?? ""
                Output.note(refused.count == 1 ? "the server refused a change relayed from a bundle (\(first)): \(reason)"
                            : "the server refused \(refused.count) changes relayed from bundles (the first \(first)): \(reason)")
            }
            if json {
                try Output.json(SyncJSON(pushed: report.pushed, pulled: report.pulled, conflicts: report.conflicts, rejected: report.rejected.count,
                                         removed: report.removal.records, relayed: report.relayed, uploaded: report.files.uploaded, downloaded: report.files.downloaded,
                                         seconds: ["snapshot": report.snapshotSeconds, "push": report.pushSeconds, "pull": report.pullSeconds]))
                for rejected in report.rejected { Output.note("refused: \(rejected.record.prefix(12)) \(rejected.field): \(rejected.reason)") }
                try failIfPushForbidden(report)
                return
            }
            Output.line("pushed \(report.pushed), pulled \(report.pulled), \(report.conflicts) open conflict\(report.conflicts == 1 ? "" : "s")")
            if report.files.uploaded + report.files.downloaded > 0 {
                Output.line("files: uploaded \(report.files.uploaded) (\(ProgressLine.size(report.files.uploadedBytes))), downloaded \(report.files.downloaded) (\(ProgressLine.size(report.files.downloadedBytes)))")
            }
            for rejected in report.rejected {
                Output.line("refused by the server: \(rejected.record.prefix(12)) \(rejected.field): \(rejected.reason)")
            }
            if !report.rejected.isEmpty { Output.note("refused edits stay pending: correct them with 'casebook edit' and sync again") }
            if report.conflicts > 0 { Output.note("see them with 'casebook conflicts', settle them with 'casebook resolve'") }
            try failIfPushForbidden(report)
        }

        /// Stores the keys the server announced (or stopped announcing), and says what changed.
        private func keepServerKeys(_ client: SyncClient, pinned: ServerKeyPins, replica: Replica) async throws {
            let keys = client.serverKeys
            for note in try await replica.keepServerKeys(presented: keys.presented, announced: keys.announced, pinned: pinned) {
                Output.note(note)
            }
        }

        /// The pull went through, but the server refused every push: say so, and exit 1.
        private func failIfPushForbidden(_ report: SyncReport) throws {
            guard let refused = report.pushForbidden else { return }
            throw ClientError("\(refused); your pending changes are kept on this replica (the pull went through)")
        }
    }
}

struct SyncJSON: Encodable {
    let pushed: Int
    let pulled: Int
    let conflicts: Int
    let rejected: Int
    /// Records removed because this user may no longer read them (need-to-know).
    let removed: Int
    /// Changes received in bundles that this sync handed to the server.
    let relayed: Int
    /// Attached files sent whole, and received whole (`--files`).
    let uploaded: Int
    let downloaded: Int
    /// Time spent in each part of the sync.
    let seconds: [String: Double]
}
