import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Status: ReplicaCommand {
        static let configuration = CommandConfiguration(abstract: "Show pending edits, open conflicts and the last sync.")

        @Flag(help: "Print {\"pending\", \"conflicts\", \"lastSync\", \"rejected\", \"serverKey\"}.")
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
                    project: settings.project, user: settings.user, server: settings.server.absoluteString,
                    serverKey: settings.pins?.keys.first?.text))
            }
            Output.line("project \(settings.project) on \(settings.server.absoluteString), as \(settings.user) (\(settings.role))")
            if let line = Self.serverKeyLine(settings) { Output.line(line) }
            Output.line("\(pending) pending change\(pending == 1 ? "" : "s"), \(conflicts) open conflict\(conflicts == 1 ? "" : "s")")
            Output.line("last sync: \(lastSync ?? "never")")
            for item in rejected { Output.line("refused by the server: \(item.record.prefix(12)) \(item.field): \(item.reason)") }
        }

        /// The pinned server key in words; nil for plain http.
        static func serverKeyLine(_ settings: ReplicaSettings) -> String? {
            guard settings.server.scheme?.lowercased() == "https" else { return nil }
            guard let pins = settings.pins else { return "server key: the pinned key is damaged (run 'casebook pin')" }
            guard let current = pins.keys.first else { return "server key: not pinned yet (the next sync pins it)" }
            let next = pins.keys.dropFirst().map(\.text)
            return "server key: \(current)" + (next.isEmpty ? "" : " (also accepted, announced by the server: \(next.joined(separator: ", ")))")
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
    /// The pinned fingerprint of the server's key; null for plain http or before it is pinned.
    let serverKey: String?

    private enum CodingKeys: String, CodingKey { case pending, conflicts, lastSync, rejected, project, user, server, serverKey }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pending, forKey: .pending)
        try container.encode(conflicts, forKey: .conflicts)
        try container.encode(lastSync, forKey: .lastSync)  // null when never synced, as the contract says
        try container.encode(rejected, forKey: .rejected)
        try container.encode(project, forKey: .project)
        try container.encode(user, forKey: .user)
        try container.encode(server, forKey: .server)
        try container.encode(serverKey, forKey: .serverKey)  // null, not absent, as for lastSync
    }
}
