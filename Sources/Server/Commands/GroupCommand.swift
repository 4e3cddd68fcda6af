import ArgumentParser
import Foundation
import Shared

extension CasebookServer {
    struct GroupCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "group", abstract: "Manage a project's groups (need-to-know).",
            discussion: """
                A record restricted to groups (casebook add --access, casebook restrict) reaches only their members and
                the project's admins. Removing a member removes such records from their replica at its next sync.
                These commands work while serve runs.
                """,
            subcommands: [Add.self, AddMember.self, RemoveMember.self, List.self])

        /// The group and project every subcommand names.
        struct GroupOptions: ParsableArguments {
            @Argument(help: "The group's name: letters, digits, '-' and '_'.")
            var group: String

            @Option(help: "The project the group belongs to.")
            var project: String

            func validate() throws {
                guard AccessRule.isValidGroupName(group) else {
                    throw ValidationError("group name '\(group.prefix(64))' is not valid: use \(AccessRule.groupNameRule)")
                }
            }
        }

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Make a group in a project.")

            @OptionGroup var names: GroupOptions
            @OptionGroup var store: StoreOptions

            func run() async throws {
                let (group, project) = (names.group, names.project)
                try await store.withStore { try await $0.addGroup(project: project, name: group, now: currentMillis()) }
                print("created group \(group) in \(project)")
            }
        }

        struct AddMember: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "add-member", abstract: "Add a member of the project to a group: its records reach them at their next sync.")

            @OptionGroup var names: GroupOptions
            @Argument(help: "The user's name (a member of the project).")
            var user: String
            @OptionGroup var store: StoreOptions

            func run() async throws {
                let (group, project, user) = (names.group, names.project, user)
                try await store.withStore { try await $0.changeGroupMember(project: project, group: group, user: user, add: true) }
                print("added \(user) to group \(group) of \(project)")
            }
        }

        struct RemoveMember: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "remove-member",
                abstract: "Remove a user from a group: the records only the group may read leave their replica at its next sync.")

            @OptionGroup var names: GroupOptions
            @Argument(help: "The user's name.")
            var user: String
            @OptionGroup var store: StoreOptions

            func run() async throws {
                let (group, project, user) = (names.group, names.project, user)
                try await store.withStore { try await $0.changeGroupMember(project: project, group: group, user: user, add: false) }
                print("removed \(user) from group \(group) of \(project)")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List a project's groups and their members.")

            @Option(help: "The project.")
            var project: String
            @Flag(help: "Print [{\"name\": ..., \"members\": [...]}] instead of text.")
            var json = false
            @OptionGroup var store: StoreOptions

            func run() async throws {
                let project = project
                let groups = try await store.withStore { try await $0.groups(project: project) }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = .sortedKeys
                    print(String(decoding: try encoder.encode(groups), as: UTF8.self))
                } else if groups.isEmpty {
                    print("\(project) has no groups")
                } else {
                    for group in groups { print("\(group.name): \(group.members.isEmpty ? "(no members)" : group.members.joined(separator: ", "))") }
                }
            }
        }
    }
}
