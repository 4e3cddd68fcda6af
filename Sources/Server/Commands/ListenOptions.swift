import ArgumentParser
import Foundation
import NIOSSL
import Shared

/// Where `serve` listens, and the TLS files it serves HTTPS with. Each is also read from the
/// environment, so a service's configuration file (`/etc/casebook/server.env`) can set it; an
/// option given on the command line wins. `doctor` checks the same settings.
struct ListenOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The address to listen on (env CASEBOOK_HOST, default 127.0.0.1). Use 0.0.0.0 to accept connections from other machines.",
        valueName: "HOST"))
    var host: String?

    @Option(help: ArgumentHelp("The port to listen on (env CASEBOOK_PORT, default 8080); 0 picks a free one.", valueName: "PORT"))
    var port: Int?

    @Option(name: .customLong("tls-cert"),
            help: ArgumentHelp("Serve HTTPS with this certificate chain (PEM; env CASEBOOK_TLS_CERT).", valueName: "FILE"))
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The private key of --tls-cert (PEM; env CASEBOOK_TLS_KEY).", valueName: "FILE"))
    var tlsKey: String?

    @Option(name: .customLong("next-tls-cert"),
            help: ArgumentHelp("A certificate (PEM) this server will switch to (repeatable). Its key is announced on every answer, so replicas that sync before the switch accept it; see docs/deployment.md.", valueName: "FILE"))
    var nextTLSCertificates: [String] = []

    private static func environment(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// The address in effect.
    var listenHost: String { host ?? Self.environment("CASEBOOK_HOST") ?? "127.0.0.1" }

    /// The port in effect.
    func listenPort() throws -> Int {
        if let port { return port }
        guard let text = Self.environment("CASEBOOK_PORT") else { return 8080 }
        guard let value = Int(text) else { throw ValidationError("CASEBOOK_PORT must be a port number, not '\(text)'") }
        return value
    }

    /// The certificate chain file in effect, if HTTPS is configured.
    var certificateFile: String? { tlsCertificate ?? Self.environment("CASEBOOK_TLS_CERT") }

    /// The private key file in effect, if HTTPS is configured.
    var keyFile: String? { tlsKey ?? Self.environment("CASEBOOK_TLS_KEY") }

    /// Whether the address only accepts connections from this machine.
    var isLoopback: Bool { ["127.0.0.1", "localhost", "::1"].contains(listenHost) }

    func validate() throws {
        guard (0...65535).contains(try listenPort()) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (certificateFile == nil) == (keyFile == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together (or CASEBOOK_TLS_CERT and CASEBOOK_TLS_KEY)")
        }
        guard nextTLSCertificates.isEmpty || certificateFile != nil else { throw ValidationError("--next-tls-cert needs --tls-cert and --tls-key") }
    }

    /// The TLS configuration, or nil for plain http, and the keys to announce: the served
    /// certificate's, then those of `--next-tls-cert`.
    func loadTLS() throws -> (configuration: TLSConfiguration, keys: [ServerKey])? {
        guard let certificateFile, let keyFile else { return nil }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
            guard let leaf = chain.first else { throw CommandError("\(certificateFile) holds no certificate") }
            let key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
            var keys = [try ServerKey(certificate: leaf)]
            for path in nextTLSCertificates {
                guard let next = try NIOSSLCertificate.fromPEMFile(path).first else { throw CommandError("\(path) holds no certificate") }
                let nextKey = try ServerKey(certificate: next)
                if !keys.contains(nextKey) { keys.append(nextKey) }
            }
            guard keys.count <= ServerKey.maxAnnounced else {
                throw CommandError("at most \(ServerKey.maxAnnounced - 1) --next-tls-cert: replicas ignore a longer list")
            }
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            return (configuration, keys)
        } catch let error as CommandError {
            throw error
        } catch {
            throw CommandError("cannot load the TLS certificates or key (\(error)): give PEM files for --tls-cert, --tls-key and --next-tls-cert")
        }
    }
}
