import ArgumentParser
import Foundation

extension Casebook {
    struct Wipe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the replica unrecoverable at once: its key is destroyed first, then the folder is removed.",
            discussion: """
                Needs no passphrase. Changes not yet synced are lost with it. Once the key is gone, whatever the disk
                still holds of the folder is ciphertext that no passphrase opens.
                """)

        @Flag(help: "Do not ask for confirmation.")
        var yes = false

        @OptionGroup var homeOptions: HomeOptions

        func run() async throws {
            let home = homeOptions.url
            try ReplicaFolder.requireReplica(home)
            if !yes {
                guard TerminalSecret.available else {
                    throw ClientError("'casebook wipe' destroys the replica in \(home.path) and every change not yet synced: add --yes to confirm", exitCode: 64)
                }
                FileHandle.standardError.write(Data("destroy the replica in \(home.path), with any change not yet synced? type 'wipe' to confirm: ".utf8))
                guard readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces).lowercased() == "wipe" else {
                    throw ClientError("not confirmed: nothing was wiped", exitCode: 64)
                }
            }
            let report = try ReplicaFolder.wipe(home)
            Output.line(report)
        }
    }
}
