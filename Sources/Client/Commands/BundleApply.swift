import ArgumentParser
import Foundation
import Shared

extension Casebook.BundleCommand {
    struct Apply: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a bundle and merge it into this replica, like a sync would.",
            discussion: """
                The bundle must be for this device, whole and unaltered, signed by a device of the project this \
                replica knows and that is not revoked, and every change in it must carry its author's signature; \
                otherwise nothing is applied (exit 1). Conflicts are kept side by side as after a sync. Changes \
                the server may not have yet are handed to it at this replica's next sync, credited to their \
                authors; those signed by a device an admin revoked since are left out (the server refuses them). \
                Every change must also pass this replica's schema: a bundle made with a newer schema version is \
                refused until this replica syncs once. Your own pending edits are published first, as a sync would push them before pulling: \
                they stay pending until the server has them, and where the bundle's maker edited the same field \
                the conflict shows at once. Applying the same bundle again changes nothing. Works offline.
                """)

        @Argument(help: ArgumentHelp("The bundle file to apply.", valueName: "FILE"))
        var file: String

        @Flag(help: "Print {\"applied\", \"conflicts\", \"relay\", \"files\"}.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let progress = ProgressLine()
            defer { progress.finish() }
            let reader = BundleFileReader(url: URL(fileURLWithPath: file), agreementKey: try await replica.agreementKey(), progress: progress)
            let checked = try reader.check(devices: try replica.bundleDevices())
            let result = try replica.applyBundle(checked, from: reader, settings: settings, signer: try await BatchSigner.of(replica, settings: settings))
            progress.finish()
            if result.skipped > 0 {
                Output.note("left out \(result.skipped) change\(result.skipped == 1 ? "" : "s") from before the project's changes were signed: the next sync brings them")
            }
            if result.revoked > 0 {
                Output.note("left out \(result.revoked) change\(result.revoked == 1 ? "" : "s") signed by devices an admin revoked since, which the server does not hold: it would refuse them")
            }
            if json {
                try Output.json(BundleApplyJSON(applied: result.applied, conflicts: result.conflicts, relay: result.relayed, files: result.files))
                return
            }
            Output.line("applied \(result.applied) change\(result.applied == 1 ? "" : "s") from \(checked.header.author)'s bundle, \(result.conflicts) open conflict\(result.conflicts == 1 ? "" : "s")"
                        + (result.files > 0 ? ", \(result.files) new file\(result.files == 1 ? "" : "s")" : ""))
            if result.relayed > 0 { Output.line("\(result.relayed) change\(result.relayed == 1 ? "" : "s") will be handed to the server at the next sync") }
            if result.conflicts > 0 { Output.note("see them with 'casebook conflicts', settle them with 'casebook resolve'") }
        }
    }
}

struct BundleApplyJSON: Encodable {
    let applied: Int
    let conflicts: Int
    /// Changes queued for relaying at the next sync.
    let relay: Int
    /// Attached files' content new to this replica.
    let files: Int
}
