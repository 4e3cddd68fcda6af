import ArgumentParser
import Foundation
import Shared

extension CasebookServer {
    struct BundleCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bundle", abstract: "Load bundles that researchers made without a network.",
            subcommands: [Apply.self])

        struct Apply: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Load a bundle (from 'casebook bundle create') into a project, as if its changes were pushed.",
                discussion: """
                    For a courier who reaches headquarters before any researcher does. The bundle must be sealed for \
                    this server (replicas seal every bundle for the project's server key, fetched at their last sync), \
                    whole and unaltered, and signed by a device of the project that is not revoked; every change must \
                    carry its author's device signature, and is credited to that author. Changes the project holds \
                    already are counted as duplicates: loading a bundle twice changes nothing. Works while 'serve' runs. \
                    Attached files' content is not loaded: the replicas that hold the files upload them at their next sync.
                    """)

            @Argument(help: ArgumentHelp("The bundle file.", valueName: "FILE"))
            var file: String

            @Option(help: "The project the bundle is of.")
            var project: String

            @Flag(help: "Print {\"applied\", \"duplicates\", \"rejected\", \"conflicts\", \"skipped\"}.")
            var json = false

            @OptionGroup var store: StoreOptions

            func run() async throws {
                let project = project, path = file, name = URL(fileURLWithPath: file).lastPathComponent
                let result: BundleImport.Result
                do {
                    result = try await store.withStore { store in
                        try await BundleImport(store: store, project: project).load(file: path, now: currentMillis())
                    }
                } catch let error as BundleError {
                    throw CommandError("\(name): \(error.message)")
                }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = .sortedKeys
                    print(String(decoding: try encoder.encode(result), as: UTF8.self))
                    return
                }
                print("loaded \(result.applied) change\(result.applied == 1 ? "" : "s") into \(project) (\(result.duplicates) already held, \(result.rejected) refused, \(result.conflicts) in conflict)")
            }
        }
    }
}
