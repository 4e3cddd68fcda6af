import ArgumentParser
import Crypto
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

        @Option(help: ArgumentHelp("The fingerprint of the server's key as your team handed it out (sha256:...). A server presenting any other key is refused. Without it, the key the server presents now is shown and pinned.", valueName: "sha256:KEY"))
        var pin: String?

        @Flag(name: .customLong("full-history"), help: "Fetch the project's whole log at the first sync instead of the current records only, checking its hash chain from the first change instead of taking the current records and the chain's value at that point on the server's word. Slower for a large project, and the replica keeps every superseded version.")
        var fullHistory = false

        @Flag(help: "Allow plain http:// to a server that is not on this machine (anyone on the network could read it).")
        var insecure = false

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws {
            guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
                throw ValidationError("--server must be an http:// or https:// address, not '\(server)'")
            }
            if let token, token.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--token must not be empty") }
            if token != nil && tokenFile != nil { throw ValidationError("give the token once: --token or --token-file, not both") }
            if let pin {
                guard ServerKey(pin) != nil else {
                    throw ValidationError("--pin takes a key fingerprint: 'sha256:' and 44 base64 characters, as 'casebook init' and the server print it, not '\(pin.prefix(80))'")
                }
                guard scheme == "https" else { throw ValidationError("--pin needs an https:// server: plain http has no key to check") }
            }
            guard ProjectName.isValid(project) else {
                throw ValidationError("--project takes a project name of \(ProjectName.rule), not '\(project.prefix(80))'")
            }
        }

        func run() async throws {
            let home = homeOptions.url
            if Replica.kind(home: home) != .none {
                throw ClientError("\(home.path) already holds a replica: use another --home, or remove that folder to start over")
            }
            // The folder becomes the replica's: `wipe` removes it whole, so it must not hold anything else.
            if let entries = try? FileManager.default.contentsOfDirectory(atPath: home.path), !entries.isEmpty {
                throw ClientError("\(home.path) is not empty: a replica needs a folder of its own (casebook wipe removes it whole); give a new or empty --home")
            }
            guard let url = URL(string: server.hasSuffix("/") ? String(server.dropLast()) : server) else {
                throw ClientError("--server is not a valid URL")
            }
            try ServerAddress.check(url, insecure: insecure)
            if insecure && url.scheme == "http" && !ServerAddress.isLoopback(url) {
                Output.note("warning: using plain http: anyone on the network can read your records and token")
            }
            let authority = try caCertificate.map(Self.authority(from:))
            let pins = ServerKeyPins(pin.flatMap(ServerKey.init).map { [$0] } ?? [])
            let token = try TokenInput.read(argument: self.token, file: tokenFile)
            // Asked before the server is contacted, so that a missing passphrase costs nothing.
            let passphrase = noPassphrase ? nil
                : try PassphraseInput.new(file: homeOptions.passphraseFile, environmentKey: PassphraseInput.environmentKey, purpose: "the new replica")
            let address = ServerAddress(url: url, certificateAuthority: authority, pins: pins)
            var generator = SystemRandomNumberGenerator()
            let node = NodeID.random(using: &generator)
            // The device key: its private half stays in the replica, the public half is registered now.
            let signingKey = Curve25519.Signing.PrivateKey()
            let agreementKey = Curve25519.KeyAgreement.PrivateKey()
            let registration = try Replica.registration(project: project, node: node, signingKey: signingKey, agreementKey: agreementKey)
            let (answer, keys) = try await fetchSchema(address, token: token, registration: registration)
            let offset = WallClock.offset(toServerTime: try PageCheck.serverTime(answer.serverTime, from: url.absoluteString))
            var settings: [Setting: String] = [
                .server: url.absoluteString, .project: answer.project, .user: answer.user, .role: answer.role,
                .node: node.rawValue,
                .signingKey: signingKey.rawRepresentation.base64EncodedString(), .deviceRegistered: "1",
                .agreementKey: agreementKey.rawRepresentation.base64EncodedString(), .agreementRegistered: "1",
                .schema: String(decoding: try answer.schema.jsonData(), as: UTF8.self),
                .clockOffset: String(offset), .cursor: "0",
            ]
            if insecure { settings[.insecure] = "1" }
            // No snapshot: the log from its first entry, chained on from the value before it.
            if fullHistory { (settings[.snapshotDone], settings[.chain]) = ("1", LogChain.genesis.hex) }
            // The PEM text goes into the database, not into a file: it names the server's host.
            if case .pem(let text) = authority { settings[.caCertificatePEM] = text }
            if let presented = keys.presented {
                Output.note("server key: \(presented)")
                settings[.serverKeys] = pins.after(presented: presented, announced: keys.announced).stored
            }
            if let passphrase {
                try Replica.createEncrypted(home: home, settings: settings, token: token, passphrase: passphrase)
            } else {
                Output.note("warning: this replica is not encrypted (--no-passphrase): anyone who takes this computer can read it; 'casebook encrypt' protects it later")
                settings[.encryption] = "off"
                _ = try Replica.create(home: home, settings: settings, token: token, key: nil)
            }
            Output.line("initialized a replica of '\(answer.project)' for \(answer.user) (\(answer.role)) in \(home.path)")
            Output.note("run 'casebook sync' to fetch the project's records")
        }

        /// The schema answer, and the key the server presented (https) with those it announced; registers the device.
        private func fetchSchema(_ address: ServerAddress, token: String, registration: Wire.DeviceRegistration) async throws -> (Wire.SchemaResponse, ServerConnection.Keys) {
            do {
                return try await SyncClient.with(address: address, project: project, token: token, timeoutSeconds: 30) { client in
                    let schema = try await client.schema()
                    _ = try await client.registerDevice(registration)
                    return (schema, client.serverKeys)
                }
            } catch let error as ClientError where error.exitCode == ClientError.unreachableExitCode {
                throw ClientError("cannot reach the server at \(address.url): 'init' needs it once; nothing was created, try again when online",
                                  exitCode: ClientError.unreachableExitCode)
            } catch let mismatch as ServerKeyMismatch {
                throw ClientError("the server's identity changed: \(address.url) presented the key \(mismatch.presented), not the \(pin ?? "?") given with --pin. Someone may be intercepting the connection, or the fingerprint was mistyped. Nothing was sent and no replica was created; check the fingerprint with your team (not over this network)",
                                  exitCode: ClientError.identityChangedExitCode)
            }
        }

        /// A private CA's certificate from a PEM file, checked.
        private static func authority(from path: String) throws -> ServerAddress.CertificateAuthority {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ClientError("cannot read the CA certificate '\(path)': give the path of a PEM file")
            }
            let authority = ServerAddress.CertificateAuthority.pem(text)
            do {
                _ = try authority.certificates()
            } catch {
                throw ClientError("cannot read the CA certificate '\(path)': give the path of a PEM file")
            }
            return authority
        }
    }
}
