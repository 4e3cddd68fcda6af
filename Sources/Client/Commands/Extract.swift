import ArgumentParser
import Foundation
import Shared

extension Casebook {
    struct Extract: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an attached file's original bytes into a folder, as FOLDER/NAME.",
            discussion: """
                The bytes are checked against the file's SHA-256 as they are written, and only a whole, checked file \
                gets its name. Nothing is written outside the folder, and an existing file is never replaced unless you \
                add --overwrite. An 'extracted' event is added to the file's custody log (where to is not recorded). The \
                file is written readable by you only. Works offline, once the file is here ('casebook fetch').
                """)

        @Argument(help: ArgumentHelp("The file's SHA-256, or a unique prefix of at least 6 hex digits.", valueName: "SHA256"))
        var sha256: String

        @Option(help: ArgumentHelp("The folder to write into (it must exist).", valueName: "DIR"))
        var to: String

        @Option(name: .customLong("as"), help: ArgumentHelp("Write it under this name instead of the one it was attached under (folders and control characters are removed).", valueName: "NAME"))
        var name: String?

        @Flag(help: "Replace a file of that name in the folder.")
        var overwrite = false

        @Flag(help: "Print {\"path\", \"sha256\"}.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let folder = URL(fileURLWithPath: to, isDirectory: true)
            let target = try await replica.extract(sha256, to: folder, as: name, overwrite: overwrite, settings: settings)
            if json {
                try Output.json(["path": target.path, "sha256": try await replica.resolveFile(sha256)])
            } else {
                Output.line("wrote \(target.path)")
            }
        }
    }
}
