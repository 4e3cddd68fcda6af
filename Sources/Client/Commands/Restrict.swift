import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Restrict: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restrict a record to groups, or give it back to the whole team.",
            discussion: """
                A restricted record reaches only the groups' members and the project's admins; it leaves the replicas of \
                everyone else at their next sync. The change has a history like any edit. If two people change a record's \
                access at once, the record stays readable only by whoever both allow until one of them settles it with \
                another restrict.
                """)

        @Argument(help: "The record's id, or a unique prefix of at least 6 characters.")
        var id: String

        @Option(help: ArgumentHelp("The groups that may read it, comma-separated.", valueName: "GROUP[,GROUP]"))
        var to: String?

        @Flag(help: "Let the whole team read it again.")
        var team = false

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws {
            guard (to == nil) != !team else { throw ValidationError("give either --to GROUP[,GROUP] or --team") }
            if let to {
                let groups = Self.groups(to)
                guard !groups.isEmpty, groups.allSatisfy(AccessRule.isValidGroupName) else {
                    throw ValidationError("--to takes group names (\(AccessRule.groupNameRule)), comma-separated, not '\(to.prefix(80))'")
                }
            }
        }

        /// The groups of a comma-separated list.
        static func groups(_ text: String) -> [String] {
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let (id, groups) = (self.id, to.map(Self.groups) ?? [])
            let ref = try await replica.edit(settings: settings) { editor in
                let ref = try editor.record(id)
                try editor.restrict(record: ref, groups: groups)
                return ref
            }
            Output.line(groups.isEmpty ? "\(ref.id) is the whole team's again" : "restricted \(ref.id) to \(groups.joined(separator: ", "))")
        }
    }
}
