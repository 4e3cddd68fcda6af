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

        @Option(help: "Your token, as 'casebook-server user add' printed it. Visible to other users of this machine and kept in your shell history: prefer --token-file, CASEBOOK_TOKEN, or typing it when asked.")
        var token: String?

        @Option(name: .customLong("token-file"), help: ArgumentHelp("A file holding your token. Without it or --token, the token comes from CASEBOOK_TOKEN, or is asked for on the terminal (not shown). It is kept in the replica folder, readable only by you.", valueName: "FILE"))
        var tokenFile: String?

        @Option(name: .customLong("ca-cert"), help: ArgumentHelp("A PEM file of the certificate authority that signed the server's certificate, when it is not a public one.", valueName: "FILE"))
        var caCertificate: String?

        @Flag(name: .customLong("no-passphrase"), help: "Keep the replica unencrypted (not advised: anyone who takes this computer can read every record, the token and the server's address).")
        var noPassphrase = false

        @Flag(help: "Allow plain http:// to a server that is not on this machine (anyone on the network could read it).")
        var insecure = false

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws {
            guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
                throw ValidationError("--server must be an http:// or https:// address, not '\(server)'")
            }
            if let token, token.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--token must not be empty") }
            if token != nil && tokenFile != nil { throw ValidationError("give the token once: --token or --token-file, not both") }
            guard ProjectName.isValid(project) else {
                throw ValidationError("--project takes a project name of \(ProjectName.rule), not '\(project.prefix(80))'")
            }
        }

        func run() async throws {
            let home = homeOptions.url
            if Replica.kind(home: home) != .none {
                throw ClientError("\(home.path) already holds a replica: use another --home, or remove that folder to start over")
            }
            guard let url = URL(string: server.hasSuffix("/") ? String(server.dropLast()) : server) else {
                throw ClientError("--server is not a valid URL")
            }
            try ServerAddress.check(url, insecure: insecure)
            if insecure && url.scheme == "http" && !ServerAddress.isLoopback(url) {
                Output.note("warning: using plain http: anyone on the network can read your records and token")
            }
            if let caCertificate, !FileManager.default.isReadableFile(atPath: caCertificate) {
                throw ClientError("cannot read the CA certificate '\(caCertificate)': give the path of a PEM file")
            }
            let token = try TokenInput.read(argument: self.token, file: tokenFile)
            // Asked before the server is contacted, so that a missing passphrase costs nothing.
            let passphrase = noPassphrase ? nil
                : try PassphraseInput.new(file: homeOptions.passphraseFile, environmentKey: PassphraseInput.environmentKey, purpose: "the new replica")
            let answer: Wire.SchemaResponse
            do {
                answer = try await SyncClient.with(address: ServerAddress(url: url, caCertificate: caCertificate), project: project,
                                                   token: token, timeoutSeconds: 30) { try await $0.schema() }
            } catch let error as ClientError where error.exitCode == ClientError.unreachableExitCode {
                throw ClientError("cannot reach the server at \(url): 'init' needs it once; nothing was created, try again when online",
                                  exitCode: ClientError.unreachableExitCode)
            }
            var generator = SystemRandomNumberGenerator()
            let offset = WallClock.offset(toServerTime: try PageCheck.serverTime(answer.serverTime, from: url.absoluteString))
            let settings: [Setting: String] = [
                .server: url.absoluteString, .project: answer.project, .user: answer.user, .role: answer.role,
                .node: NodeID.random(using: &generator).rawValue,
                .schema: String(decoding: try answer.schema.jsonData(), as: UTF8.self),
                .clockOffset: String(offset), .cursor: "0",
            ]
            var all = settings
            if insecure { all[.insecure] = "1" }
            if let caCertificate {
                // Keep a copy with the replica, so it does not depend on where the file was.
                try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                let copy = home.appendingPathComponent("ca.pem")
                try? FileManager.default.removeItem(at: copy)
                try FileManager.default.copyItem(atPath: caCertificate, toPath: copy.path)
                all[.caCertificate] = copy.path
            }
            if let passphrase {
                try Replica.createEncrypted(home: home, settings: all, token: token, passphrase: passphrase)
            } else {
                Output.note("warning: this replica is not encrypted (--no-passphrase): anyone who takes this computer can read it; 'casebook encrypt' protects it later")
                all[.encryption] = "off"
                _ = try Replica.create(home: home, settings: all, token: token, key: nil)
            }
            Output.line("initialized a replica of '\(answer.project)' for \(answer.user) (\(answer.role)) in \(home.path)")
            Output.note("run 'casebook sync' to fetch the project's records")
        }
    }
}
