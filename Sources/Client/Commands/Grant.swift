import ArgumentParser
import Foundation
import Shared

extension Casebook {
    struct Grant: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a member read and write sensitive fields: wrap the project's keys for their devices.",
            discussion: """
                Run by a member whose replica holds the project's key. Every key this replica holds is wrapped for every \
                registered device of USER (with that device's public key; the server only stores the wrapped copies). \
                USER's replica can read sensitive values from its next sync. A device USER registers later needs another grant.
                """)

        @Argument(help: "The member's user name.")
        var user: String

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            try ServerAddress.check(settings.server, insecure: settings.insecure)
            let report = try await SyncClient.with(address: try settings.address(), project: settings.project, token: try replica.token()) { client in
                try await Syncer(replica: replica, client: client, settings: settings, progress: ProgressLine()).grant(to: user)
            }
            Output.line("granted \(report.keys.count) key\(report.keys.count == 1 ? "" : "s") to \(user) (\(report.devices) device\(report.devices == 1 ? "" : "s")): they can read sensitive fields after their next sync")
        }
    }

    struct RotateKey: ReplicaCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Make a new project key for the current members' devices; sensitive values written afterwards use it.",
            discussion: """
                Run after removing a member or revoking a device: they get no copy of the new key, so they cannot read \
                sensitive values written from then on (what they synced before stays on their replica). Any key holder may run it.
                """)

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            try ServerAddress.check(settings.server, insecure: settings.insecure)
            let report = try await SyncClient.with(address: try settings.address(), project: settings.project, token: try replica.token()) { client in
                try await Syncer(replica: replica, client: client, settings: settings, progress: ProgressLine()).rotateKey()
            }
            Output.line("new project key \(report.keys.first ?? "") for \(report.devices) device\(report.devices == 1 ? "" : "s") of \(report.members.joined(separator: ", "))")
        }
    }
}
