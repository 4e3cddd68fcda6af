import Crypto
import Foundation

/// A 32-byte secret sealed for one device's X25519 agreement key: an ephemeral X25519 key agreed
/// with the device's, HKDF-SHA256 of the shared secret, ChaChaPoly over the secret. The one
/// construction behind a bundle's content key, sealed per recipient (`BundleSealer`), and a project
/// key's wrap, made per device (`ProjectKeyWrap`). Each use names its own HKDF salt and info (from
/// both public keys and its own context) and additional data, so bytes sealed for one use never
/// open as the other.
package enum DeviceSeal {
    /// What a use binds the derived key to, given the ephemeral and the recipient's public keys.
    package struct Binding: Sendable {
        /// The HKDF salt and info.
        package var derive: @Sendable (_ ephemeral: [UInt8], _ recipient: [UInt8]) -> (salt: [UInt8], info: [UInt8])
        /// The additional data ChaChaPoly authenticates.
        package var authenticating: [UInt8]

        /// A binding.
        package init(authenticating: [UInt8] = [], derive: @escaping @Sendable (_ ephemeral: [UInt8], _ recipient: [UInt8]) -> (salt: [UInt8], info: [UInt8])) {
            self.derive = derive
            self.authenticating = authenticating
        }
    }

    /// Bytes of a sealed secret: the ephemeral public key (32), then nonce (12), ciphertext (32) and tag (16).
    package static let size = 32 + 12 + 32 + 16

    /// Seals `secret` (32 bytes) for `recipient` with a fresh `ephemeral` key and `nonce`.
    package static func seal(_ secret: [UInt8], for recipient: Curve25519.KeyAgreement.PublicKey, _ binding: Binding,
                             ephemeral: Curve25519.KeyAgreement.PrivateKey, nonce: ChaChaPoly.Nonce) throws -> [UInt8] {
        let ephemeralPublic = Array(ephemeral.publicKey.rawRepresentation)
        let key = wrappingKey(try ephemeral.sharedSecretFromKeyAgreement(with: recipient), binding, ephemeral: ephemeralPublic,
                              recipient: Array(recipient.rawRepresentation))
        let box = try ChaChaPoly.seal(secret, using: key, nonce: nonce, authenticating: binding.authenticating)
        return ephemeralPublic + Array(box.combined)
    }

    /// The secret inside `sealed` when it was sealed for `privateKey` under `binding`; nil otherwise
    /// (another device, another use, altered bytes).
    package static func open(_ sealed: some Collection<UInt8>, with privateKey: Curve25519.KeyAgreement.PrivateKey, _ binding: Binding) -> [UInt8]? {
        let bytes = Array(sealed)
        guard bytes.count == size, let ephemeral = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes[0..<32]),
              let secret = try? privateKey.sharedSecretFromKeyAgreement(with: ephemeral),
              let box = try? ChaChaPoly.SealedBox(combined: bytes[32...]) else { return nil }
        let key = wrappingKey(secret, binding, ephemeral: Array(bytes[0..<32]), recipient: Array(privateKey.publicKey.rawRepresentation))
        guard let opened = try? ChaChaPoly.open(box, using: key, authenticating: binding.authenticating), opened.count == 32 else { return nil }
        return Array(opened)
    }

    private static func wrappingKey(_ secret: SharedSecret, _ binding: Binding, ephemeral: [UInt8], recipient: [UInt8]) -> SymmetricKey {
        let (salt, info) = binding.derive(ephemeral, recipient)
        return secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: salt, sharedInfo: info, outputByteCount: 32)
    }
}
