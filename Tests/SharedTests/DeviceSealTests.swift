import Crypto
import Foundation
import Testing
@testable import Shared

/// The one construction that seals a secret for a device's X25519 agreement key (`DeviceSeal`), as
/// bundles (their content key, per recipient) and project-key wraps (sensitive fields) use it: pinned
/// to the bytes the two wrote before they shared it, so that bundles and wraps already made still open.
@Suite struct DeviceSealTests {
    let recipient = try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: [UInt8](repeating: 0x11, count: 32))
    let ephemeral = try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: [UInt8](repeating: 0x22, count: 32))

    /// Bytes that count up from `start`, for pinned randomness.
    static func counting(from start: UInt8) -> (Int) -> [UInt8] {
        var next = start
        return { count in (0..<count).map { _ in defer { next &+= 1 }; return next } }
    }

    @Test func aBundlesRecipientEntryKeepsItsBytes() throws {
        var out: [UInt8] = []
        var sealer = try BundleSealer(recipients: [recipient.publicKey], random: Self.counting(from: 1), write: { out += $0 })
        try sealer.finish(signingKey: try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x33, count: 32)))
        let preamble = Array(out.prefix(BundleFormat.magic.count + 1 + 16 + 4 + 2 + BundleFormat.recipientSize))
        #expect(Hex.encode(Array(SHA256.hash(data: preamble))) == "654a52bc3665a1adf2b6bb4cdb3fc585667845f3310498fe2ca0ecaaecfa3b63")
        // And it opens: the content key comes back out of the entry.
        var position = 0
        var opener = try BundleOpener(agreementKey: recipient) { count in
            let end = min(out.count, position + count)
            defer { position = end }
            return Array(out[position..<end])
        }
        #expect(try opener.next() == nil)
    }

    @Test func aProjectKeyWrapKeepsItsBytes() throws {
        let key = SymmetricKey(data: [UInt8](repeating: 0x44, count: 32))
        let node = try #require(NodeID("0123456789abcdef"))
        let wrap = try ProjectKeyWrap.wrap(key, keyID: "fedcba9876543210", project: "kz", node: node, recipient: recipient.publicKey,
                                           granter: node, signingKey: try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x55, count: 32)),
                                           ephemeral: ephemeral, nonce: try ChaChaPoly.Nonce(data: [UInt8](repeating: 0x66, count: 12)))
        #expect(wrap.wrapped == "D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyBmZmZmZmZmZmZmZmZAjoME5mn3GhQqBkm5ySaUr4rzWy4YmaWqpkSF2fjUmIX3GfppLhlosYsEXSUOHqQ=")
        let opened = try ProjectKeyWrap.open(wrap, project: "kz", node: node, privateKey: recipient)
        #expect(opened.withUnsafeBytes { Array($0) } == [UInt8](repeating: 0x44, count: 32))
    }
}
