import ArgumentParser
import Foundation
import Shared

extension Casebook {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a replica of a project: needs the server once, to fetch the schema and check the token.")

        @Option(help: ArgumentHelp("The server's address, e.g. https://casebook.example.org or http://127.0.0.1:8080.", valueName: "URL"))
        var server: String

        @Option(help: "The project to replicate.")
        var project: String

        @Option(help: "Your token, as 'casebook-server user add' printed it. It is kept in the replica folder, readable only by you.")
        var token: String

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws {
            guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
                throw ValidationError("--server must be an http:// or https:// address, not '\(server)'")
            }
            guard !token.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--token must not be empty") }
        }

        func run() async throws {
            let home = homeOptions.url
            if FileManager.default.fileExists(atPath: home.appendingPathComponent(Replica.databaseName).path) {
                throw ClientError("\(home.path) already holds a replica: use another --home, or remove that folder to start over")
            }
            guard let url = URL(string: server.hasSuffix("/") ? String(server.dropLast()) : server) else {
                throw ClientError("--server is not a valid URL")
            }
            let client = SyncClient(server: url, project: project, token: token.trimmingCharacters(in: .whitespaces), timeout: 30)
            let answer: Wire.SchemaResponse
            do {
                answer = try await client.schema()
            } catch let error as ClientError where error.exitCode == ClientError.unreachableExitCode {
                throw ClientError("cannot reach the server at \(url): 'init' needs it once; nothing was created, try again when online",
                                  exitCode: ClientError.unreachableExitCode)
            }
            var generator = SystemRandomNumberGenerator()
            let offset = Int64(answer.serverTime) - Int64(Date().timeIntervalSince1970 * 1000)
            let settings: [Setting: String] = [
                .server: url.absoluteString, .project: answer.project, .user: answer.user, .role: answer.role,
                .node: NodeID.random(using: &generator).rawValue,
                .schema: String(decoding: try answer.schema.jsonData(), as: UTF8.self),
                .clockOffset: String(offset), .cursor: "0",
            ]
            _ = try Replica.create(home: home, settings: settings, token: client.token)
            Output.line("initialized a replica of '\(answer.project)' for \(answer.user) (\(answer.role)) in \(home.path)")
            Output.note("run 'casebook sync' to fetch the project's records")
        }
    }
}
