import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Sync: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send your pending edits to the server and fetch everyone else's.",
            discussion: "Safe to interrupt: what was received is kept, and the next sync continues where this one stopped. Exit 3 when the server cannot be reached.")

        @Flag(help: "Print {\"pushed\", \"pulled\", \"conflicts\", \"rejected\"}.")
        var json = false

        @Option(name: .customLong("batch-size"), help: "Changes sent per request; smaller batches resend less after a cut connection.")
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
            let report = try await SyncClient.with(address: settings.address, project: settings.project, token: token) { client in
                var syncer = Syncer(replica: replica, client: client, settings: settings, progress: Progress())
                syncer.pushBatch = batchSize
                return try await syncer.run()
            }
            if json {
                try Output.json(SyncJSON(pushed: report.pushed, pulled: report.pulled, conflicts: report.conflicts, rejected: report.rejected.count,
                                         seconds: ["snapshot": report.snapshotSeconds, "push": report.pushSeconds, "pull": report.pullSeconds]))
                for rejected in report.rejected { Output.note("refused: \(rejected.record.prefix(12)) \(rejected.field): \(rejected.reason)") }
                try failIfPushRefused(report)
                return
            }
            Output.line("pushed \(report.pushed), pulled \(report.pulled), \(report.conflicts) open conflict\(report.conflicts == 1 ? "" : "s")")
            for rejected in report.rejected {
                Output.line("refused by the server: \(rejected.record.prefix(12)) \(rejected.field): \(rejected.reason)")
            }
            if !report.rejected.isEmpty { Output.note("refused edits stay pending: correct them with 'casebook edit' and sync again") }
            if report.conflicts > 0 { Output.note("see them with 'casebook conflicts', settle them with 'casebook resolve'") }
            try failIfPushRefused(report)
        }

        /// The pull went through, but the server refused every push: say so, and exit 1.
        private func failIfPushRefused(_ report: SyncReport) throws {
            guard let refused = report.pushRefused else { return }
            throw ClientError("\(refused); your pending changes are kept on this replica (the pull went through)")
        }
    }

    struct Status: ReplicaCommand {
        static let configuration = CommandConfiguration(abstract: "Show pending edits, open conflicts and the last sync.")

        @Flag(help: "Print {\"pending\", \"conflicts\", \"lastSync\", \"rejected\"}.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let (pending, conflicts, rejected) = try await replica.database.read { db in
                (try ReplicaQuery.pendingCount(db), try ReplicaQuery.conflictCount(db), try ReplicaQuery.rejected(db))
            }
            let lastSync = settings.lastSync.map(Output.iso)
            if json {
                return try Output.json(StatusJSON(
                    pending: pending, conflicts: conflicts, lastSync: lastSync,
                    rejected: rejected.map { StatusJSON.Rejected(record: $0.record, field: $0.field, code: $0.code, reason: $0.reason) },
                    project: settings.project, user: settings.user, server: settings.server.absoluteString))
            }
            Output.line("project \(settings.project) on \(settings.server.absoluteString), as \(settings.user) (\(settings.role))")
            Output.line("\(pending) pending change\(pending == 1 ? "" : "s"), \(conflicts) open conflict\(conflicts == 1 ? "" : "s")")
            Output.line("last sync: \(lastSync ?? "never")")
            for item in rejected { Output.line("refused by the server: \(item.record.prefix(12)) \(item.field): \(item.reason)") }
        }
    }
}

struct SyncJSON: Encodable {
    let pushed: Int
    let pulled: Int
    let conflicts: Int
    let rejected: Int
    /// Time spent in each part of the sync.
    let seconds: [String: Double]
}

struct StatusJSON: Encodable {
    struct Rejected: Encodable {
        let record: String
        let field: String
        let code: String
        let reason: String
    }
    let pending: Int
    let conflicts: Int
    let lastSync: String?
    let rejected: [Rejected]
    let project: String
    let user: String
    let server: String

    private enum CodingKeys: String, CodingKey { case pending, conflicts, lastSync, rejected, project, user, server }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pending, forKey: .pending)
        try container.encode(conflicts, forKey: .conflicts)
        try container.encode(lastSync, forKey: .lastSync)  // null when never synced, as the contract says
        try container.encode(rejected, forKey: .rejected)
        try container.encode(project, forKey: .project)
        try container.encode(user, forKey: .user)
        try container.encode(server, forKey: .server)
    }
}
