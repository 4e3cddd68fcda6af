import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Status: ReplicaCommand {
        static let configuration = CommandConfiguration(abstract: "Show pending edits, open conflicts and the last sync.")

        @Flag(help: "Print {\"pending\", \"conflicts\", \"lastSync\", \"rejected\"}.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let status = try await replica.status()
            let (pending, conflicts, rejected) = (status.pending, status.conflicts, status.rejected)
            let lastSync = status.lastSync.map(Output.iso)
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
