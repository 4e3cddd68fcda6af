import ArgumentParser
import Crypto
import Foundation
import Shared

extension Casebook.BundleCommand {
    struct Create: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write everything this replica knows into one signed, encrypted file.",
            discussion: """
                The file holds the changes this replica holds (records restricted to groups are left out), your \
                pending edits (published: they leave 'status' pending only once the server has them), custody \
                events and the attached files held here. It is encrypted for every device of the project this \
                replica knows (as of its last sync) and for the server, and signed by this device. Written to a \
                temporary file first: FILE appears whole or not at all. Works offline.
                """)

        @Argument(help: ArgumentHelp("The bundle file to write (replaced if it exists).", valueName: "FILE"))
        var file: String

        @Flag(help: "Print {\"changes\", \"files\"}.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let target = URL(fileURLWithPath: file)
            let signer = try await BatchSigner.of(replica, settings: settings)
            let recipients = try await recipients(replica)
            let published = try replica.publishPending(signer: signer, author: settings.user, schema: settings.schema)
            let progress = ProgressLine()
            defer { progress.finish() }
            let count = try BundleFileWriter.write(to: target) { write in
                var sealer = try BundleSealer(recipients: recipients, random: BundleFileWriter.random, write: write)
                let count = try replica.writeBundle(&sealer, settings: settings, progress: progress)
                try sealer.finish(signingKey: signer.key)
                return count
            }
            progress.finish()
            if count.restricted > 0 {
                Output.note("left out \(count.restricted) change\(count.restricted == 1 ? "" : "s") of records restricted to groups: a bundle is readable by every member")
            }
            if json {
                try Output.json(BundleCreateJSON(changes: count.changes, files: count.files))
            } else {
                Output.line("wrote \(target.path): \(count.changes) change\(count.changes == 1 ? "" : "s") (\(published) of your pending edits), \(count.files) file\(count.files == 1 ? "" : "s"), for \(recipients.count) device\(recipients.count == 1 ? "" : "s")")
            }
        }

        /// The devices the bundle is for: every device of the project with a verified agreement key, this one, and the server.
        private func recipients(_ replica: Replica) async throws -> [Curve25519.KeyAgreement.PublicKey] {
            var keys = try await replica.agreementKeys().values.map(\.key)
            keys.append(try await replica.agreementKey().publicKey)
            if let server = try await replica.serverAgreementKey() { keys.append(server) }
            var seen = Set<Data>()
            return keys.filter { seen.insert($0.rawRepresentation).inserted }
        }
    }
}

struct BundleCreateJSON: Encodable {
    let changes: Int
    let files: Int
}
