import ArgumentParser
import Foundation

extension Casebook {
    struct Encrypt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encrypt a replica made by an older version (or with --no-passphrase) under a new passphrase.",
            discussion: """
                Rewrites the database once into an encrypted copy (all or nothing: a crash leaves the old one
                working), then overwrites the plaintext files and removes them. On disks that keep old blocks
                (SSDs, copy-on-write file systems) traces of the old files can remain: a new replica made
                encrypted from the start never had them.
                """)

        @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp("A file holding the passphrase to use. Without it: env CASEBOOK_NEW_PASSPHRASE (or CASEBOOK_PASSPHRASE), or typed twice.", valueName: "FILE"))
        var newPassphraseFile: String?

        @OptionGroup var homeOptions: HomeOptions

        func run() async throws {
            let home = homeOptions.url
            switch Replica.kind(home: home) {
            case .none: try ReplicaFolder.requireReplica(home)
            case .encrypted: throw ClientError("the replica in \(home.path) is already encrypted: 'casebook passphrase' changes its passphrase")
            case .plaintext: break
            }
            let file = newPassphraseFile ?? homeOptions.passphraseFile
            let key = ProcessInfo.processInfo.environment[PassphraseInput.newEnvironmentKey] == nil && file == nil
                ? PassphraseInput.environmentKey : PassphraseInput.newEnvironmentKey
            let passphrase = try PassphraseInput.new(file: file, environmentKey: key, purpose: "the replica in \(home.path)")
            FileHandle.standardError.write(Data("encrypting the replica in \(home.path) (a large replica takes a minute)...\n".utf8))
            try Replica.encrypt(home: home, passphrase: passphrase)
            Output.line("encrypted: the replica in \(home.path) now needs its passphrase ('casebook unlock' keeps it for a while)")
        }
    }
}
