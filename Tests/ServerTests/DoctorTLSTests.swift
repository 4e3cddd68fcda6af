import Foundation
import NIOSSL
import Testing
@testable import Server

/// The TLS files `serve --tls-cert --tls-key` would load.
@Suite struct DoctorTLSTests {
    /// A self-signed P-256 certificate and its key (openssl), in `folder`.
    static func makeCertificate(in folder: URL, name: String, days: Int = 30) throws -> (cert: String, key: String) {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cert = folder.appendingPathComponent("\(name).pem").path, key = folder.appendingPathComponent("\(name)-key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", key, "-out", cert, "-days", String(days), "-subj", "/CN=\(name)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl failed")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        return (cert, key)
    }

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-doctor-tls-\(UUID().uuidString)")

    @Test func aMatchingPairPassesWithItsExpiry() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let pair = try Self.makeCertificate(in: folder, name: "server")
        let findings = Doctor.checkTLS(certificate: pair.cert, key: pair.key, now: Date())
        #expect(findings.map(\.status) == [.ok])
        #expect(findings[0].message.hasPrefix("the certificate and key match; valid until "))
    }

    @Test func aKeyOfAnotherCertificateFails() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try Self.makeCertificate(in: folder, name: "server")
        let other = try Self.makeCertificate(in: folder, name: "other")
        let findings = Doctor.checkTLS(certificate: server.cert, key: other.key, now: Date())
        #expect(findings.map(\.status) == [.failed, .ok])
        #expect(findings[0].message.contains("does not belong to the certificate \(server.cert)"))
    }

    @Test func unreadableFilesAndAKeyEveryoneCanReadFail() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let pair = try Self.makeCertificate(in: folder, name: "server")
        let missing = Doctor.checkTLS(certificate: folder.appendingPathComponent("nope.pem").path, key: pair.key, now: Date())
        #expect(missing.map(\.status) == [.failed])
        #expect(missing[0].message.contains("cannot read the certificate"))
        let notAKey = Doctor.checkTLS(certificate: pair.cert, key: pair.cert, now: Date())
        #expect(notAKey.map(\.status) == [.failed])
        #expect(notAKey[0].message.contains("cannot read the private key"))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: pair.key)
        let exposed = Doctor.checkTLS(certificate: pair.cert, key: pair.key, now: Date())
        #expect(exposed.map(\.status) == [.failed, .ok])
        #expect(exposed[0].message.contains("chmod 640"))
    }

    @Test func anExpiredCertificateFailsAndOneAboutToExpireWarns() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let pair = try Self.makeCertificate(in: folder, name: "server", days: 30)
        let leaf = try #require(try NIOSSLCertificate.fromPEMFile(pair.cert).first)
        let end = Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter))
        #expect(Doctor.validity(of: leaf, file: pair.cert, now: end.addingTimeInterval(-40 * 86_400)).status == .failed)
        #expect(Doctor.validity(of: leaf, file: pair.cert, now: end.addingTimeInterval(-10 * 86_400)).status == .warning)
        let expired = Doctor.validity(of: leaf, file: pair.cert, now: end.addingTimeInterval(86_400))
        #expect(expired.status == .failed)
        #expect(expired.message.contains("expired on"))
    }
}
