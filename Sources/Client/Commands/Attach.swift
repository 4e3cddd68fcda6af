import ArgumentParser
import Foundation
import Shared

extension Casebook {
    struct Attach: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Attach files to a record: kept (encrypted) in this replica, sent to the server by the next sync.",
            discussion: """
                Each file is addressed by its SHA-256: the same content attached twice, or by two people, is stored and \
                sent once. Its name is kept without folders or control characters. Attaching is all or nothing: a file \
                that cannot be read, or that changes while it is read, refuses the whole attach and nothing is stored. \
                An 'added' event starts each file's custody log (see 'casebook custody'). Example:
                  casebook attach 3f2a9c photo-0412.jpg statement.pdf
                """)

        @Argument(help: "The record's id, or a unique prefix of at least 6 characters.")
        var id: String

        @Argument(help: ArgumentHelp("The files to attach.", valueName: "FILE"))
        var paths: [String]

        @Option(help: ArgumentHelp("The field that holds them (default: the record's first field of type files, e.g. evidence).", valueName: "NAME"))
        var field: String?

        @Flag(help: "Print {\"files\": [{\"sha256\", \"name\", \"size\"}]}.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws {
            guard !paths.isEmpty else { throw ValidationError("name at least one FILE to attach") }
        }

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let progress = ProgressLine()
            let attached = try replica.attach(id, field: field, paths: paths, settings: settings) { done, total in
                progress.bytes("reading and storing", done: done, total: total)
            }
            progress.finish()
            if json {
                return try Output.json(["files": attached.map { AttachedJSON(sha256: $0.sha256, name: $0.name, size: $0.size) }])
            }
            for file in attached {
                Output.line("attached \(file.name) (\(ProgressLine.size(file.size)), sha256 \(file.sha256))")
            }
            Output.note("'casebook sync' sends them to the server")
        }
    }
}

struct AttachedJSON: Encodable {
    let sha256: String
    let name: String
    let size: Int64
}
