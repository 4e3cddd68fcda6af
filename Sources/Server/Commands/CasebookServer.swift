import ArgumentParser
import Foundation
import Shared

@main
struct CasebookServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "casebook-server",
        abstract: "The Casebook sync server: holds a team's records and lets field replicas sync with it.",
        discussion: """
            Start it with 'casebook-server serve'. Create a project and add users with the 'project' and
            'user' commands; they work while the server runs on the same data folder.
            """,
        subcommands: [Serve.self, ProjectCommand.self, UserCommand.self])

    /// Runs the command; domain errors become one 'error: ...' line and exit code 1.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as CommandError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            Foundation.exit(1)
        } catch let error as StoreError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}

/// Where the server keeps its data: the embedded store's folder, or a PostgreSQL URL.
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The data folder of the embedded SQLite store (env CASEBOOK_DATA).", valueName: "DIR"))
    var data: String?

    @Option(name: .customLong("database-url"),
            help: ArgumentHelp("Use PostgreSQL instead of the embedded store (env CASEBOOK_DATABASE_URL).", valueName: "postgres://USER:PASS@HOST:PORT/DB"))
    var databaseURL: String?

    /// The data folder in effect.
    var dataFolder: URL {
        let path = data ?? ProcessInfo.processInfo.environment["CASEBOOK_DATA"] ?? "./casebook-data"
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    /// Opens the store the options name.
    func openStore() throws -> any SyncStore {
        if let url = databaseURL ?? ProcessInfo.processInfo.environment["CASEBOOK_DATABASE_URL"], !url.isEmpty {
            throw CommandError("this build has no PostgreSQL store yet: leave out --database-url (and CASEBOOK_DATABASE_URL) to use the embedded SQLite store")
        }
        do {
            return try SQLiteSyncStore(folder: dataFolder)
        } catch let error as CommandError {
            throw error
        } catch {
            throw CommandError("cannot open the data folder '\(dataFolder.path)': \(error.localizedDescription)")
        }
    }
}

/// Wall-clock milliseconds since the epoch.
func currentMillis() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
