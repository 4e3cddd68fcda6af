import Crypto
import Foundation

/// A project key wrapped for one device: an ephemeral X25519 key agreed with the device's agreement key,
/// HKDF-SHA256 bound to the project, key id and node, ChaChaPoly over the 32 key bytes; signed by the
/// granting device's Ed25519 key so that the recipient knows a member's device made it
/// (docs/security.md, "Sensitive fields"). The server stores wraps and cannot open them.
package enum ProjectKeyWrap {
    /// Why a wrap was not accepted.
    package struct Problem: Error, Sendable, Equatable {
        package let message: String
    }

    /// Wraps `key` for the device `node` whose agreement key is `recipient`, signed by the granting device.
    package static func wrap(_ key: SymmetricKey, keyID: String, project: String, node: NodeID,
                             recipient: Curve25519.KeyAgreement.PublicKey,
                             granter: NodeID, signingKey: Curve25519.Signing.PrivateKey) throws -> Wire.KeyWrap {
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let wrapping = try wrappingKey(ephemeral.sharedSecretFromKeyAgreement(with: recipient), ephemeral: ephemeral.publicKey,
                                       recipient: recipient, keyID: keyID, project: project, node: node)
        let bytes = key.withUnsafeBytes { Data($0) }
        let box = try ChaChaPoly.seal(bytes, using: wrapping, authenticating: context(keyID: keyID, project: project, node: node))
        let wrapped = ephemeral.publicKey.rawRepresentation + box.combined
        let signature = try signingKey.signature(for: message(keyID: keyID, project: project, node: node.rawValue, granter: granter.rawValue, wrapped: wrapped))
        return Wire.KeyWrap(keyID: keyID, node: node.rawValue, wrapped: wrapped.base64EncodedString(),
                            granter: granter.rawValue, signature: signature.base64EncodedString())
    }

    /// Whether the wrap's signature holds for the granting device's public signing key.
    package static func verify(_ wrap: Wire.KeyWrap, project: String, granterKey: Curve25519.Signing.PublicKey) -> Bool {
        guard let wrapped = Data(base64Encoded: wrap.wrapped), let signature = Data(base64Encoded: wrap.signature) else { return false }
        return granterKey.isValidSignature(signature, for: message(keyID: wrap.keyID, project: project, node: wrap.node,
                                                                    granter: wrap.granter, wrapped: wrapped))
    }

    /// The project key inside a wrap made for this device.
    package static func open(_ wrap: Wire.KeyWrap, project: String, node: NodeID,
                             privateKey: Curve25519.KeyAgreement.PrivateKey) throws(Problem) -> SymmetricKey {
        guard wrap.node == node.rawValue else { throw Problem(message: "the key \(wrap.keyID) was wrapped for another device") }
        guard let wrapped = Data(base64Encoded: wrap.wrapped), wrapped.count == 32 + 12 + 32 + 16,
              let ephemeral = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: wrapped.prefix(32)) else {
            throw Problem(message: "the wrapped key \(wrap.keyID) is damaged")
        }
        do {
            let wrapping = try wrappingKey(privateKey.sharedSecretFromKeyAgreement(with: ephemeral), ephemeral: ephemeral,
                                           recipient: privateKey.publicKey, keyID: wrap.keyID, project: project, node: node)
            let box = try ChaChaPoly.SealedBox(combined: wrapped.dropFirst(32))
            return SymmetricKey(data: try ChaChaPoly.open(box, using: wrapping, authenticating: context(keyID: wrap.keyID, project: project, node: node)))
        } catch {
            throw Problem(message: "the wrapped key \(wrap.keyID) does not open with this device's key (altered, or made for another project)")
        }
    }

    private static func wrappingKey(_ secret: SharedSecret, ephemeral: Curve25519.KeyAgreement.PublicKey,
                                    recipient: Curve25519.KeyAgreement.PublicKey, keyID: String, project: String, node: NodeID) -> SymmetricKey {
        secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: ephemeral.rawRepresentation + recipient.rawRepresentation,
                                       sharedInfo: context(keyID: keyID, project: project, node: node), outputByteCount: 32)
    }

    private static func context(keyID: String, project: String, node: NodeID) -> Data {
        var bytes = Array("casebook-key-wrap-v1".utf8)
        for part in [project, keyID, node.rawValue] { bytes.appendLengthPrefixed(part) }
        return Data(bytes)
    }

    /// What the granting device signs: the project, key id, recipient node, granting node and the wrapped bytes.
    static func message(keyID: String, project: String, node: String, granter: String, wrapped: Data) -> Data {
        var bytes = Array("casebook-key-wrap-signature-v1".utf8)
        for part in [project, keyID, node, granter, wrapped.base64EncodedString()] { bytes.appendLengthPrefixed(part) }
        return Data(bytes)
    }
}
