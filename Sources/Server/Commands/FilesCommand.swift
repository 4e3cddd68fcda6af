import ArgumentParser
import Foundation
import Shared

extension CasebookServer {
    struct FilesCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "files", abstract: "Manage the evidence files the server holds.", subcommands: [Purge.self])

        struct Purge: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Remove the files of a project that no live record references, listing each.",
                discussion: """
                    A file stays while the current value of any field of a record that is not deleted lists it
                    (every version of a field in conflict counts; a record deleted while someone edited it counts
                    as live until the conflict is resolved). Uploads in progress of files nothing references go
                    too: their uploader starts again. Custody logs are kept whole. Works while the server runs;
                    run it with --dry-run first. Deleting a record never removes its files by itself.
                    """)

            @Option(help: "The project whose files to purge.")
            var project: String

            @Flag(name: .customLong("dry-run"), help: "List what would be removed; remove nothing.")
            var dryRun = false

            @Flag(help: "Print {\"project\", \"dryRun\", \"files\": [{\"sha256\", \"size\", \"complete\", \"bytes\", \"names\"}], \"bytes\"}.")
            var json = false

            @OptionGroup var store: StoreOptions

            func validate() throws {
                guard ProjectName.isValid(project) else { throw ValidationError("project name '\(project)' is not valid: use \(ProjectName.rule)") }
            }

            func run() async throws {
                let (project, dryRun) = (self.project, self.dryRun)
                let purge = try await store.withStore { try await $0.purgeFiles(project: project, dryRun: dryRun) }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    print(String(decoding: try encoder.encode(purge), as: UTF8.self))
                    return
                }
                for file in purge.files {
                    let state = file.complete ? "complete" : "partial, \(FileUsage.describe(file.bytes)) received"
                    let names = file.names.isEmpty ? "(no name known)" : file.names.joined(separator: ", ")
                    print("\(file.sha256)  \(FileUsage.describe(file.size))  \(state)  \(names)")
                }
                let verb = dryRun ? "would remove" : "removed"
                print("\(verb) \(purge.files.count) file(s) of project \(project), \(FileUsage.describe(purge.bytes))\(dryRun ? " (dry run: nothing removed)" : " freed")")
            }
        }
    }
}
