import ArgumentParser
import Foundation
import Shared

extension Casebook {
    struct Custody: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a file's chain of custody: who added, uploaded, received, downloaded and extracted it, and when.",
            discussion: """
                Oldest first. Events made on this replica are sent by the next sync; other replicas' events and the \
                server's 'received' arrive with it. The log is only ever appended to: no command edits or removes an \
                event. Works offline.
                """)

        @Argument(help: ArgumentHelp("The file's SHA-256, or a unique prefix of at least 6 hex digits.", valueName: "SHA256"))
        var sha256: String

        @Flag(help: "Print [{\"event\", \"by\", \"at\", ...}], oldest first.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let (sha256, events) = try await replica.custody(of: self.sha256)
            if json { return try Output.json(events.map(CustodyJSON.init)) }
            Output.line("custody of \(sha256)")
            for event in events { Output.line(Self.line(event)) }
            if events.isEmpty { Output.line("  no events known here yet: sync to receive them") }
        }

        static func line(_ event: Wire.CustodyEvent) -> String {
            var line = "  \(Output.iso(event.at))  \(event.event.rawValue) by \(event.by)"
            if event.event == .added {
                line += ": \(event.name ?? "?") (\(ProgressLine.size(event.size ?? 0))) to record \(event.record ?? "?")"
            }
            if let replica = event.replica { line += " on replica \(replica)" }
            if event.seq == nil { line += "  (not sent yet)" }
            return line
        }
    }
}

struct CustodyJSON: Encodable {
    let event: String
    let by: String
    let at: String
    let record: String?
    let name: String?
    let size: Int64?
    let replica: String?
    /// When the server stored the event; nil while it waits to be sent.
    let receivedAt: String?

    init(_ event: Wire.CustodyEvent) {
        self.event = event.event.rawValue
        by = event.by
        at = Output.iso(event.at)
        record = event.record
        name = event.name
        size = event.size
        replica = event.replica
        receivedAt = event.receivedAt.map(Output.iso)
    }
}
