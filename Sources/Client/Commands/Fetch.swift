import ArgumentParser
import Foundation
import Shared

extension Casebook {
    struct Fetch: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the content of attached files from the server into this replica.",
            discussion: """
                Name records (all their files) or files (by SHA-256), or give --all for every file a record here refers \
                to. Files already here are skipped. Each chunk is checked as it arrives and the whole file against its \
                SHA-256 before it counts; an interrupted fetch resumes where it stopped. A 'downloaded' event is added \
                to each file's custody log. 'casebook sync --files' does the same after a sync. Exit 3 when the server \
                cannot be reached.
                """)

        @Argument(help: ArgumentHelp("Record ids or SHA-256s (or unique prefixes of at least 6 characters).", valueName: "ID|SHA256"))
        var targets: [String] = []

        @Flag(help: "Fetch every file that a record in this replica refers to.")
        var all = false

        @Flag(help: "Print {\"fetched\", \"bytes\"}.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws {
            guard all != !targets.isEmpty else { throw ValidationError("name records or files to fetch, or give --all (not both)") }
        }

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let wanted = try await replica.filesToFetch(targets, all: all, schema: settings.schema)
            var fetched = 0, bytes: Int64 = 0
            if !wanted.isEmpty {
                try ServerAddress.check(settings.server, insecure: settings.insecure)
                let address = try settings.address()
                (fetched, bytes) = try await SyncClient.with(address: address, project: settings.project, token: try replica.token()) { client in
                    let syncer = FileSyncer(replica: replica, transport: client, settings: settings, progress: ProgressLine())
                    let result = try await syncer.download(wanted)
                    syncer.progress.finish()
                    // The 'downloaded' events go up at once; a failure here leaves them for the next sync.
                    _ = try? await syncer.pushCustody()
                    return result
                }
            }
            if json { return try Output.json(["fetched": Int64(fetched), "bytes": bytes]) }
            Output.line(wanted.isEmpty ? "nothing to fetch: every file named is here" : "fetched \(fetched) file\(fetched == 1 ? "" : "s") (\(ProgressLine.size(bytes)))")
        }
    }
}
