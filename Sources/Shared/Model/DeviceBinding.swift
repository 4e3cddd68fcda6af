import Crypto
import Foundation

/// Binds a device's X25519 agreement key to its Ed25519 signing key: the device signs the
/// agreement key, so whoever wraps a secret for the device (a bundle's content key, the project
/// key of sensitive fields) can check that the key came from that device, not from the server.
///
/// The signed message is the domain tag `casebook-agreement-key-v1`, then the project, the node
/// (each with a 4-byte big-endian length) and the 32 bytes of the public agreement key.
package enum DeviceBinding {
    /// The bytes a device signs to vouch for its agreement key.
    package static func message(project: String, node: NodeID, agreementKey: [UInt8]) -> [UInt8] {
        var message: [UInt8] = []
        message.appendLengthPrefixed("casebook-agreement-key-v1")
        message.appendLengthPrefixed(project)
        message.appendLengthPrefixed(node.rawValue)
        message.append(contentsOf: agreementKey)
        return message
    }

    /// The signature (64 bytes) of `signingKey` over the binding of `agreementKey`.
    package static func sign(project: String, node: NodeID, agreementKey: Curve25519.KeyAgreement.PublicKey,
                              with signingKey: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        Array(try signingKey.signature(for: message(project: project, node: node, agreementKey: Array(agreementKey.rawRepresentation))))
    }

    /// Whether `signature` by the device's signing key holds over `agreementKey`.
    package static func holds(project: String, node: NodeID, agreementKey: [UInt8], signature: [UInt8], signingKey: [UInt8]) -> Bool {
        guard agreementKey.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: signingKey) else { return false }
        return key.isValidSignature(signature, for: message(project: project, node: node, agreementKey: agreementKey))
    }

    /// The device's agreement key, only when its own signing key signed it for `project`.
    package static func verifiedAgreementKey(of device: Wire.Device, project: String) -> Curve25519.KeyAgreement.PublicKey? {
        guard let node = NodeID(device.node),
              let agreement = device.agreementKey.flatMap({ Data(base64Encoded: $0) }),
              let signature = device.agreementSignature.flatMap({ Data(base64Encoded: $0) }),
              let signing = Data(base64Encoded: device.signingKey),
              holds(project: project, node: node, agreementKey: Array(agreement), signature: Array(signature), signingKey: Array(signing))
        else { return nil }
        return try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: agreement)
    }
}
