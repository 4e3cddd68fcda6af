import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Log: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a record's history: who changed what, and when.",
            discussion: "Works offline for everything this replica has received: the versions current when it first synced, and every change since.")

        @Argument(help: "The record's id, or a unique prefix of at least 6 characters.")
        var id: String

        @Flag(help: "Print JSON, oldest first.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let entries = try await replica.log(id)
            if json {
                return try Output.json(entries.map {
                    LogJSON(field: $0.field, value: JSONValue($0.value), author: $0.author, at: Output.iso($0.at), pending: $0.pending,
                            receivedAt: $0.receivedAt.map(Output.iso), resolution: $0.resolution)
                })
            }
            for entry in entries {
                let what = entry.field == Change.deletedField ? (entry.value == .bool(true) ? "deleted the record" : "restored the record")
                    : entry.value.isUnset ? "cleared \(entry.field)" : "set \(entry.field) = \(entry.value.shownText.replacingOccurrences(of: "\n", with: " ").prefix(100))"
                let resolved = entry.resolution ? "  (resolving a conflict)" : ""
                Output.line("\(Output.iso(entry.at))  \(entry.author)  \(what)\(resolved)\(entry.pending ? "  (pending sync)" : "")")
            }
        }
    }
}

struct LogJSON: Encodable {
    let field: String
    let value: JSONValue
    let author: String
    let at: String
    let pending: Bool
    let receivedAt: String?
    let resolution: Bool
}
