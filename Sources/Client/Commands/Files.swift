import ArgumentParser
import Foundation
import Shared

extension Casebook {
    struct Files: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a record's attached files, and whether this replica holds their content.",
            discussion: "A file not held here ('local: false') is fetched with 'casebook fetch'. Works offline.")

        @Argument(help: "The record's id, or a unique prefix of at least 6 characters.")
        var id: String

        @Flag(help: "Print [{\"sha256\", \"name\", \"size\", \"mime\", \"addedBy\", \"addedAt\", \"local\", \"field\"}].")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let (record, entries) = try await replica.files(of: id, schema: settings.schema)
            if json { return try Output.json(entries.map(FileJSON.init)) }
            guard !entries.isEmpty else { return Output.line("no files attached to \(record.id)") }
            for line in Self.lines(entries) { Output.line(line) }
        }

        /// One line per file: field, hash prefix, name, size, media type, who added it and when, and whether it is here.
        static func lines(_ entries: [FileEntry]) -> [String] {
            let width = entries.map(\.field.count).max() ?? 0
            return entries.map { entry in
                let file = entry.file
                return "\(entry.field.padding(toLength: width, withPad: " ", startingAt: 0))  \(file.sha256.prefix(12))  \(file.name)  "
                    + "\(ProgressLine.size(file.size))  \(file.mime)  added by \(entry.addedBy) \(Output.iso(entry.addedAt))"
                    + (entry.local ? "" : "  (not here: casebook fetch \(file.sha256.prefix(12)))")
            }
        }
    }
}

struct FileJSON: Encodable {
    let sha256: String
    let name: String
    let size: Int64
    let mime: String
    let addedBy: String
    let addedAt: String
    let local: Bool
    let field: String

    init(_ entry: FileEntry) {
        sha256 = entry.file.sha256
        name = entry.file.name
        size = entry.file.size
        mime = entry.file.mime
        addedBy = entry.addedBy
        addedAt = Output.iso(entry.addedAt)
        local = entry.local
        field = entry.field
    }
}
