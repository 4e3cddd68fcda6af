import Foundation
import NIOSSL
import Testing
import TestSupport
@testable import Client
@testable import Shared

/// The pins a replica keeps, decided without a network: what a connection may carry, and what an
/// answer's `Casebook-Server-Keys` changes.
@Suite struct ServerKeyPinsTests {
    static func key(_ byte: UInt8) -> ServerKey { ServerKey(sha256: [UInt8](repeating: byte, count: 32))! }
    let a = Self.key(1), b = Self.key(2), c = Self.key(3)

    @Test func onlyAPinnedKeyPassesAndAReplicaWithoutPinsTrustsTheFirst() {
        #expect(ServerKeyPins([a]).accepts(a))
        #expect(!ServerKeyPins([a]).accepts(b))
        #expect(ServerKeyPins([a, b]).accepts(b))
        #expect(ServerKeyPins().accepts(c))
        #expect(ServerKeyPins().after(presented: c, announced: nil) == ServerKeyPins([c]))
        #expect(ServerKeyPins().after(presented: c, announced: nil).notes(from: ServerKeyPins()).first?.contains("pinned the server's key") == true)
    }

    @Test func anAnnouncementAddsKeysAndTheSwitchRetiresTheOldOne() {
        let announced = ServerKeyPins([a]).after(presented: a, announced: [a, b])
        #expect(announced == ServerKeyPins([a, b]))
        #expect(announced.notes(from: ServerKeyPins([a])) == ["the server announced its next key \(b): this replica will accept it when the server switches"])
        let switched = announced.after(presented: b, announced: [b])
        #expect(switched == ServerKeyPins([b]))
        #expect(switched.notes(from: announced) == ["the server no longer lists the key \(a): this replica stops accepting it"])
        // An announcement withdrawn before the switch is forgotten too.
        #expect(announced.after(presented: a, announced: [a]) == ServerKeyPins([a]))
    }

    @Test func aListWithoutThePresentedKeyOrNoListChangesNothingButTheOrder() {
        #expect(ServerKeyPins([a]).after(presented: a, announced: [b, c]) == ServerKeyPins([a]))
        #expect(ServerKeyPins([a, b]).after(presented: b, announced: nil) == ServerKeyPins([b, a]))
        #expect(ServerKeyPins([a, b]).after(presented: b, announced: nil).notes(from: ServerKeyPins([a, b])).isEmpty)
    }

    @Test func theStoredFormRoundTripsAndDamageIsNoticed() {
        let pins = ServerKeyPins([a, b])
        #expect(ServerKeyPins(stored: pins.stored) == pins)
        #expect(ServerKeyPins(stored: "sha256:damaged") == nil)
    }

    @Test func theFingerprintIsOpensslsForRSAAndECKeys() throws {
        let authority = try TestAuthority()
        defer { authority.cleanUp() }
        let issued = try authority.issue("server")
        for pem in [issued.certificate, authority.certificate] {
            let certificate = try #require(try NIOSSLCertificate.fromPEMFile(pem).first)
            #expect(try ServerKey(certificate: certificate).text == TestAuthority.fingerprint(pem))
        }
        let rsa = authority.folder.appendingPathComponent("rsa.pem").path
        try TestAuthority.run("/usr/bin/env", ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", rsa + ".key",
                                                "-out", rsa, "-days", "1", "-subj", "/CN=rsa"])
        let certificate = try #require(try NIOSSLCertificate.fromPEMFile(rsa).first)
        #expect(try ServerKey(certificate: certificate).text == TestAuthority.fingerprint(rsa))
    }

    @Test func anOldReplicaNamingItsCAFileKeepsUsingItAndANewOneHoldsThePEM() throws {
        let old = try TemporaryReplica()
        defer { old.cleanUp() }
        try old.replica.write { db in try Setting.set(.caCertificate, "/somewhere/ca.pem", db) }
        guard case .file("/somewhere/ca.pem") = try old.replica.settings().certificateAuthority else {
            Issue.record("an old replica's CA file is no longer read")
            return
        }
        try old.replica.write { db in try Setting.set(.caCertificatePEM, "-----BEGIN CERTIFICATE-----", db) }
        guard case .pem = try old.replica.settings().certificateAuthority else {
            Issue.record("the PEM in the database is not preferred")
            return
        }
        try old.replica.write { db in try Setting.set(.serverKeys, "sha256:damaged", db) }
        #expect(try old.replica.settings().pins == nil)
        #expect(throws: ClientError.self) { try old.replica.settings().address() }
    }
}
