import ArgumentParser
import Foundation
import Shared

extension CasebookServer {
    struct UserCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "user", abstract: "Manage users and their tokens.", subcommands: [Add.self, List.self, Revoke.self, Remove.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a user to a project and print their new token (once: only its hash is kept) and its id.",
                discussion: """
                    Adding an existing user gives them another token (and sets their role in the project). A revoked
                    user's name can be added again: they get a new token and only this project; old tokens stay revoked.
                    """)

            @Argument(help: "The user's name, as others will see it on their edits.")
            var name: String

            @Option(help: "The project to add them to.")
            var project: String

            @Option(help: "admin, researcher (may push) or viewer (may only pull).")
            var role: Role = .researcher

            @Flag(help: "Print {\"token\": \"...\"} instead of text.")
            var json = false

            @OptionGroup var store: StoreOptions

            func validate() throws {
                // User names follow the rule for project names.
                guard ProjectName.isValid(name) else {
                    throw ValidationError("user name '\(name)' is not valid: use \(ProjectName.rule)")
                }
            }

            func run() async throws {
                let token = TokenHasher.generate()
                let (name, project, role) = (name, project, role)
                try await store.withStore {
                    try await $0.addUser(name: name, project: project, role: role, tokenHash: TokenHasher.hash(token), now: currentMillis())
                }
                let id = TokenHasher.id(ofHash: TokenHasher.hash(token))
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = .sortedKeys
                    print(String(decoding: try encoder.encode(["token": token, "tokenId": id]), as: UTF8.self))
                } else {
                    // The token stays the last line: scripts take it with `tail -n 1`.
                    print("added \(name) to \(project) as \(role.rawValue); token id \(id) (to revoke this token alone: user revoke \(name) --token \(id))")
                    print("their token (shown only now):")
                    print(token)
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke every token of a user at once, or one token with --token.")

            @Argument(help: "The user's name.")
            var name: String

            @Option(help: ArgumentHelp("Revoke only the token with this id (as 'user add' printed it; at least 8 hex digits).", valueName: "ID"))
            var token: String?

            @OptionGroup var store: StoreOptions

            func validate() throws {
                if let token, token.count < 8 || !token.allSatisfy(\.isHexDigit) {
                    throw ValidationError("--token takes the token's id as 'user add' printed it (12 hex digits; at least 8), not '\(token.prefix(40))'")
                }
            }

            func run() async throws {
                let (name, token) = (name, token)
                if let token {
                    try await store.withStore { try await $0.revokeToken(user: name, tokenID: token) }
                    print("revoked token \(token) of \(name): it no longer works (their other tokens do)")
                } else {
                    try await store.withStore { try await $0.revokeUser(name: name, now: currentMillis()) }
                    print("revoked \(name): their tokens no longer work")
                }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Remove a user from one project; their tokens keep working for their other projects.")

            @Argument(help: "The user's name.")
            var name: String

            @Option(help: "The project to remove them from.")
            var project: String

            @OptionGroup var store: StoreOptions

            func run() async throws {
                let (name, project) = (name, project)
                try await store.withStore { try await $0.removeMember(user: name, project: project) }
                print("removed \(name) from \(project): they can no longer pull or push it")
            }
        }
    
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List a project's members and their roles.")

            @Option(help: "The project.")
            var project: String

            @Flag(help: "Print {\"users\": [...]} instead of text.")
            var json = false

            @OptionGroup var store: StoreOptions

            func run() async throws {
                let project = project
                let members = try await store.withStore { try await $0.projectSummaries(name: project) }.first?.members ?? []
                if json { return print(try ProjectCommand.Show.json(["users": members])) }
                if members.isEmpty { print("\(project) has no members yet: add one with 'casebook-server user add NAME --project \(project)'") }
                for member in members { print("\(member.name)  \(member.role)" + (member.revoked ? "  revoked" : "")) }
            }
        }
}
}

extension Role: ExpressibleByArgument {}
