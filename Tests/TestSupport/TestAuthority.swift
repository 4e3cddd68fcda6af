import Foundation

/// A certificate authority made with openssl for one test, in a temporary folder: it signs server
/// certificates that each get a key of their own, as an admin's CA (or a state's root) would.
public struct TestAuthority: Sendable {
    /// A server certificate and its private key (PEM files).
    public struct Issued: Sendable {
        public let certificate: String
        public let key: String
    }

    public let folder: URL
    /// The authority's own certificate (PEM): what `init --ca-cert` or a trust store is given.
    public let certificate: String
    private let key: String

    public init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        certificate = folder.appendingPathComponent("ca.pem").path
        key = folder.appendingPathComponent("ca.key").path
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=Casebook test authority",
                          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    /// A certificate for `names` (subjectAltName syntax) with a new key, signed by this authority.
    public func issue(_ name: String, names: String = "IP:127.0.0.1,DNS:localhost") throws -> Issued {
        let base = folder.appendingPathComponent(name).path
        let extensions = base + ".ext"
        try Data("subjectAltName=\(names)\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n".utf8)
            .write(to: URL(fileURLWithPath: extensions))
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=casebook-test"])
        try Self.openssl(["x509", "-req", "-in", base + ".csr", "-CA", certificate, "-CAkey", key, "-CAcreateserial",
                          "-out", base + ".pem", "-days", "2", "-extfile", extensions])
        return Issued(certificate: base + ".pem", key: base + ".key")
    }

    /// The fingerprint of a certificate's key as openssl computes it: `sha256:` and the base64 of
    /// the SHA-256 of its SubjectPublicKeyInfo.
    public static func fingerprint(_ certificate: String) throws -> String {
        let script = "openssl x509 -in \"$0\" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64"
        let digest = try run("/bin/sh", ["-c", script, certificate]).trimmingCharacters(in: .whitespacesAndNewlines)
        return "sha256:" + digest
    }

    public func cleanUp() { try? FileManager.default.removeItem(at: folder) }

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    private static func openssl(_ arguments: [String]) throws {
        _ = try run("/usr/bin/env", ["openssl"] + arguments)
    }

    /// Runs a program and returns its standard output; throws when it fails.
    @discardableResult
    public static func run(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Small outputs only (a fingerprint, openssl's chatter): reading after the exit cannot block.
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failed(description: "\(program) \(arguments.prefix(3).joined(separator: " ")) failed: "
                         + String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        return text
    }
}
