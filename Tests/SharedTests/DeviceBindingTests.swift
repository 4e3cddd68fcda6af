import Crypto
import Foundation
import Testing
@testable import Shared

/// A replica uses a device's agreement key only when the device's signing key vouches for it: a
/// server that swaps in a key of its own (to read what members wrap for the device) is not believed.
@Suite struct DeviceBindingTests {
    let node = NodeID("00000000000000aa")!
    let signing = Curve25519.Signing.PrivateKey()
    let agreement = Curve25519.KeyAgreement.PrivateKey()

    func device(agreementKey: Curve25519.KeyAgreement.PublicKey, signature: [UInt8]) -> Wire.Device {
        Wire.Device(node: node.rawValue, owner: "ana", signingKey: signing.publicKey.rawRepresentation.base64EncodedString(),
                    agreementKey: agreementKey.rawRepresentation.base64EncodedString(),
                    agreementSignature: Data(signature).base64EncodedString(), registeredAt: 0)
    }

    @Test func theDevicesOwnSignatureMakesItsAgreementKeyUsable() throws {
        let signature = try DeviceBinding.sign(project: "kz", node: node, agreementKey: agreement.publicKey, with: signing)
        let key = try #require(DeviceBinding.verifiedAgreementKey(of: device(agreementKey: agreement.publicKey, signature: signature), project: "kz"))
        #expect(key.rawRepresentation == agreement.publicKey.rawRepresentation)
        // The same signature read for another project, or another node, does not hold.
        #expect(DeviceBinding.verifiedAgreementKey(of: device(agreementKey: agreement.publicKey, signature: signature), project: "other") == nil)
        var moved = device(agreementKey: agreement.publicKey, signature: signature)
        moved.node = "00000000000000ab"
        #expect(DeviceBinding.verifiedAgreementKey(of: moved, project: "kz") == nil)
    }

    @Test func aKeySwappedInBesideTheDevicesSignatureIsNotUsed() throws {
        let signature = try DeviceBinding.sign(project: "kz", node: node, agreementKey: agreement.publicKey, with: signing)
        let servers = Curve25519.KeyAgreement.PrivateKey().publicKey
        #expect(DeviceBinding.verifiedAgreementKey(of: device(agreementKey: servers, signature: signature), project: "kz") == nil)
        // Nor one the server signed with a key of its own.
        let forged = try DeviceBinding.sign(project: "kz", node: node, agreementKey: servers, with: Curve25519.Signing.PrivateKey())
        #expect(DeviceBinding.verifiedAgreementKey(of: device(agreementKey: servers, signature: forged), project: "kz") == nil)
        var unsigned = device(agreementKey: agreement.publicKey, signature: signature)
        unsigned.agreementSignature = nil
        #expect(DeviceBinding.verifiedAgreementKey(of: unsigned, project: "kz") == nil)
    }
}
