import ArgumentParser
import Foundation
import ServiceLifecycle
import Shared

@main
struct CasebookServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "casebook-server",
        abstract: "The Casebook sync server: holds a team's records and lets field replicas sync with it.",
        discussion: """
            Start it with 'casebook-server serve'. Create a project and add users with the 'project' and
            'user' commands; they work while the server runs on the same data folder. 'doctor' checks a deployment.
            """,
        version: CasebookVersion.line(program: "casebook-server"),
        subcommands: [Serve.self, ProjectCommand.self, UserCommand.self, GroupCommand.self, DeviceCommand.self, BundleCommand.self, FilesCommand.self, Backup.self, DoctorCommand.self])

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

    @Option(name: .customLong("database-pool-size"),
            help: ArgumentHelp("With PostgreSQL: the most connections this process opens (env CASEBOOK_DATABASE_POOL_SIZE).", valueName: "N"))
    var poolSize: Int?

    @Option(name: .customLong("database-timeout"),
            help: ArgumentHelp("With PostgreSQL: seconds to wait for the database before giving up (env CASEBOOK_DATABASE_TIMEOUT).", valueName: "SECONDS"))
    var databaseTimeout: Int?

    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The PostgreSQL URL in effect, if any.
    var postgresURL: String? {
        // An explicit --data wins over a URL in the environment.
        let url = databaseURL ?? (data == nil ? environment["CASEBOOK_DATABASE_URL"] : nil)
        return url?.isEmpty == false ? url : nil
    }

    /// The data folder in effect.
    var dataFolder: URL {
        let path = data ?? environment["CASEBOOK_DATA"] ?? "./casebook-data"
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    func validate() throws {
        if databaseURL != nil && data != nil {
            throw ValidationError("--data and --database-url name two different stores: give one of them")
        }
        if let size = try poolSizeSetting(), !(1...1000).contains(size) {
            throw ValidationError("--database-pool-size must be between 1 and 1000")
        }
        if let seconds = try timeoutSetting(), !(1...3600).contains(seconds) {
            throw ValidationError("--database-timeout must be between 1 and 3600 seconds")
        }
    }

    private func poolSizeSetting() throws -> Int? {
        if let poolSize { return poolSize }
        guard let text = environment["CASEBOOK_DATABASE_POOL_SIZE"] else { return nil }
        guard let value = Int(text) else { throw ValidationError("CASEBOOK_DATABASE_POOL_SIZE must be a number, not '\(text)'") }
        return value
    }

    private func timeoutSetting() throws -> Int? {
        if let databaseTimeout { return databaseTimeout }
        guard let text = environment["CASEBOOK_DATABASE_TIMEOUT"] else { return nil }
        guard let value = Int(text) else { throw ValidationError("CASEBOOK_DATABASE_TIMEOUT must be a number of seconds, not '\(text)'") }
        return value
    }

    /// Opens the store the options name, with the services it needs running beside it (PostgreSQL's pool).
    func openStore() async throws -> (store: any SyncStore, services: [any Service]) {
        if let url = postgresURL {
            var settings = PostgresSyncStore.Settings()
            if let size = try poolSizeSetting() { settings.poolSize = size }
            if let seconds = try timeoutSetting() {
                settings.connectTimeout = .seconds(min(seconds, 10))
                settings.operationTimeout = .seconds(seconds)
            }
            let store = try await PostgresSyncStore.open(url: url, settings: settings)
            return (store, [store])
        }
        do {
            return (try SQLiteSyncStore(folder: dataFolder), [])
        } catch {
            throw CommandError("cannot open the data folder '\(dataFolder.path)': \(error.localizedDescription)")
        }
    }

    /// Runs `body` with the store open (and its services running): for the admin commands.
    func withStore<T: Sendable>(_ body: @Sendable @escaping (any SyncStore) async throws -> T) async throws -> T {
        let (store, _) = try await openStore()
        if let postgres = store as? PostgresSyncStore {
            return try await postgres.whileRunning { try await body(postgres) }
        }
        return try await body(store)
    }
}
