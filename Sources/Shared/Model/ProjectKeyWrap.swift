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

    /// Wraps `key` for the device `node` whose agreement key is `recipient`, signed by the granting device
    /// (`ephemeral` and `nonce` are fresh random values; tests pin them to check the bytes).
    package static func wrap(_ key: SymmetricKey, keyID: String, project: String, node: NodeID,
                             recipient: Curve25519.KeyAgreement.PublicKey,
                             granter: NodeID, signingKey: Curve25519.Signing.PrivateKey,
                             ephemeral: Curve25519.KeyAgreement.PrivateKey = .init(), nonce: ChaChaPoly.Nonce = .init()) throws -> Wire.KeyWrap {
        let wrapped = Data(try DeviceSeal.seal(key.withUnsafeBytes { Array($0) }, for: recipient, binding(keyID: keyID, project: project, node: node),
                                               ephemeral: ephemeral, nonce: nonce))
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
        guard let wrapped = Data(base64Encoded: wrap.wrapped), wrapped.count == DeviceSeal.size,
              (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: wrapped.prefix(32))) != nil else {
            throw Problem(message: "the wrapped key \(wrap.keyID) is damaged")
        }
        guard let opened = DeviceSeal.open(wrapped, with: privateKey, binding(keyID: wrap.keyID, project: project, node: node)) else {
            throw Problem(message: "the wrapped key \(wrap.keyID) does not open with this device's key (altered, or made for another project)")
        }
        return SymmetricKey(data: opened)
    }

    /// How a project key is sealed for a device (`DeviceSeal`): HKDF-SHA256 salted with both public
    /// keys, its info and additional data the project, key id and node.
    private static func binding(keyID: String, project: String, node: NodeID) -> DeviceSeal.Binding {
        let context = Array(context(keyID: keyID, project: project, node: node))
        return DeviceSeal.Binding(authenticating: context) { ephemeral, recipient in (ephemeral + recipient, context) }
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
