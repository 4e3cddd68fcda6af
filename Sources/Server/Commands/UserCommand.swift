import ArgumentParser
import Foundation
import Shared

extension CasebookServer {
    struct UserCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "user", abstract: "Manage users and their tokens.", subcommands: [Add.self, Revoke.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a user to a project and print their new token (once: only its hash is kept).")

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
                if json {
                    let data = try JSONEncoder().encode(["token": token])
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print("added \(name) to \(project) as \(role.rawValue); their token (shown only now):")
                    print(token)
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke every token of a user, at once.")

            @Argument(help: "The user's name.")
            var name: String

            @OptionGroup var store: StoreOptions

            func run() async throws {
                let name = name
                try await store.withStore { try await $0.revokeUser(name: name, now: currentMillis()) }
                print("revoked \(name): their tokens no longer work")
            }
        }
    }
}

extension Role: ExpressibleByArgument {}
