import ArgumentParser
import Foundation
import Shared

extension CasebookServer {
    struct ProjectCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "project", abstract: "Manage projects.",
            subcommands: [Create.self, SchemaVersion.self, List.self, Show.self, Quota.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a project with a schema.")

            @Argument(help: "The project's name: letters, digits, '-' and '_'.")
            var name: String

            @Option(help: ArgumentHelp("The schema: 'upr' (built in) or the path of a JSON or YAML schema file.", valueName: "upr|PATH"))
            var schema = "upr"

            @OptionGroup var store: StoreOptions

            func validate() throws {
                guard ProjectName.isValid(name) else {
                    throw ValidationError("project name '\(name)' is not valid: use \(ProjectName.rule)")
                }
            }

            func run() async throws {
                let loaded = try SchemaFile.load(schema)
                try await store.withStore { try await $0.createProject(name: name, schema: loaded, now: currentMillis()) }
                print("created project \(name) (schema \(loaded.name), version \(loaded.version))")
            }
        }
    }
}
