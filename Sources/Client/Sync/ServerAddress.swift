import Foundation
import NIOSSL
import Shared

/// How a replica reaches its server, and whom it trusts there.
struct ServerAddress: Sendable {
    var url: URL
    /// Certificate authorities to trust besides the system's (for a server with a private CA).
    var certificateAuthority: CertificateAuthority?
    /// The server keys this replica accepts; none: plain http, or not pinned yet.
    var pins = ServerKeyPins()

    /// A private certificate authority's certificates.
    enum CertificateAuthority: Sendable {
        /// The PEM text, kept in the replica's database.
        case pem(String)
        /// A PEM file: replicas made before the text was kept in the database named a copy of it.
        case file(String)

        /// The certificates, or an error saying how to fix it.
        func certificates() throws -> [NIOSSLCertificate] {
            do {
                let certificates = switch self {
                case .pem(let text): try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
                case .file(let path): try NIOSSLCertificate.fromPEMFile(path)
                }
                guard !certificates.isEmpty else { throw ClientError("no certificate") }
                return certificates
            } catch {
                switch self {
                case .pem: throw ClientError("the replica's CA certificate is damaged: run 'casebook init' again with --ca-cert in a new --home")
                case .file(let path): throw ClientError("cannot read the CA certificate '\(path)': give a PEM file")
                }
            }
        }
    }

    /// Whether the host is this machine (127.0.0.0/8, ::1 or localhost), where plain http is harmless.
    static func isLoopback(_ url: URL) -> Bool {
        guard let host = url.host?.lowercased() else { return false }
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".")
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Plain http is refused to anything but a loopback address unless the user said `--insecure`.
    static func check(_ url: URL, insecure: Bool) throws {
        guard url.scheme?.lowercased() == "http", !isLoopback(url) else { return }
        guard insecure else {
            throw ClientError("refusing plain http:// to \(url.host ?? "?"): anyone on the network could read your records and token. Use https://, or --insecure if you accept that risk")
        }
    }

    /// Whether the connection is TLS.
    var isHTTPS: Bool { url.scheme?.lowercased() == "https" }
}
