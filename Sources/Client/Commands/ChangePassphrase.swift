import ArgumentParser
import Foundation

extension Casebook {
    struct ChangePassphrase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "passphrase",
            abstract: "Change the replica's passphrase (the data is not rewritten: only its key is wrapped anew).",
            discussion: "Safe to interrupt: afterwards either the old or the new passphrase opens the replica, never neither.")

        @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp("A file holding the new passphrase. Without it: env CASEBOOK_NEW_PASSPHRASE, or typed twice.", valueName: "FILE"))
        var newPassphraseFile: String?

        @OptionGroup var homeOptions: HomeOptions

        func run() async throws {
            let home = homeOptions.url
            guard let keyFile = try KeyFile.read(home: home) else {
                try ReplicaFolder.requireReplica(home)
                throw ClientError("the replica in \(home.path) is not encrypted: run 'casebook encrypt' to give it a passphrase")
            }
            // The old passphrase itself, not the unlocked session: whoever finds the laptop unlocked must not be able to lock its owner out.
            let key = try ReplicaAccess.key(keyFile, homeOptions, useSession: false)
            let new = try PassphraseInput.new(file: newPassphraseFile, environmentKey: PassphraseInput.newEnvironmentKey, purpose: "the replica in \(home.path)")
            try KeyFile.rewrap(home: home, key: key, newPassphrase: new)
            Output.line("passphrase changed: the old one no longer opens the replica in \(home.path)")
        }
    }
}
