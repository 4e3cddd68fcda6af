import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// A device's X25519 agreement key reaches the device list only when the device's own signing key
/// signed it, is added once to a device registered without one, and never changes afterwards.
@Suite struct DeviceAgreementTests {
    struct Device {
        let node = NodeID("00000000000000aa")!
        let signing = Curve25519.Signing.PrivateKey()
        let agreement = Curve25519.KeyAgreement.PrivateKey()

        func registration(project: String = "kz", signedBy signer: Curve25519.Signing.PrivateKey? = nil,
                          agreementKey: Curve25519.KeyAgreement.PublicKey? = nil) throws -> Wire.DeviceRegistration {
            let key = agreementKey ?? agreement.publicKey
            let signature = try DeviceBinding.sign(project: project, node: node, agreementKey: key, with: signer ?? signing)
            return Wire.DeviceRegistration(node: node.rawValue, signingKey: signing.publicKey.rawRepresentation.base64EncodedString(),
                                           agreementKey: key.rawRepresentation.base64EncodedString(),
                                           agreementSignature: Data(signature).base64EncodedString())
        }

        var withoutAgreement: Wire.DeviceRegistration {
            Wire.DeviceRegistration(node: node.rawValue, signingKey: signing.publicKey.rawRepresentation.base64EncodedString())
        }
    }

    func register(_ client: some TestClientProtocol, _ harness: ServerHarness, _ registration: Wire.DeviceRegistration) async throws -> TestResponse {
        try await client.execute(uri: "/v1/projects/kz/devices", method: .post, headers: harness.headers("ana"),
                                 body: ByteBuffer(bytes: try JSONEncoder().encode(registration)))
    }

    func listed(_ client: some TestClientProtocol, _ harness: ServerHarness, _ node: NodeID) async throws -> Wire.Device? {
        let response = try await client.execute(uri: "/v1/projects/kz/devices", method: .get, headers: harness.headers("ana"))
        return try JSONDecoder().decode(Wire.DeviceList.self, from: Data(buffer: response.body)).devices.first { $0.node == node.rawValue }
    }

    @Test(arguments: StoreKind.allCases) func aDeviceWithoutAnAgreementKeyGetsItAddedOnceAndForGood(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let device = Device()
            #expect(try await register(client, harness, device.withoutAgreement).status == .ok)
            #expect(try await listed(client, harness, device.node)?.agreementKey == nil)

            #expect(try await register(client, harness, device.registration()).status == .ok)
            let stored = try #require(try await listed(client, harness, device.node))
            let verified = try #require(DeviceBinding.verifiedAgreementKey(of: stored, project: "kz"))
            #expect(verified.rawRepresentation == device.agreement.publicKey.rawRepresentation)
            #expect(try await register(client, harness, device.registration()).status == .ok)  // a retry
            #expect(try await register(client, harness, device.withoutAgreement).status == .ok)  // an old replica's retry

            // Once stored, the agreement key never changes, even when properly signed.
            let other = Curve25519.KeyAgreement.PrivateKey().publicKey
            #expect(try await register(client, harness, device.registration(agreementKey: other)).status == .conflict)
            #expect(try await listed(client, harness, device.node)?.agreementKey == stored.agreementKey)
        }
    }

    @Test(arguments: StoreKind.allCases) func anAgreementKeyTheDeviceDidNotSignIsRefused(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let device = Device()
            // Signed by another key, signed for another project, or no signature at all: refused, nothing stored.
            let byAnother = try await register(client, harness, device.registration(signedBy: Curve25519.Signing.PrivateKey()))
            #expect(byAnother.status == .badRequest)
            #expect(String(buffer: byAnother.body).contains("agreementSignature"))
            #expect(try await register(client, harness, device.registration(project: "other")).status == .badRequest)
            var unsigned = try device.registration()
            unsigned.agreementSignature = nil
            #expect(try await register(client, harness, unsigned).status == .badRequest)
            var short = try device.registration()
            short.agreementKey = Data(repeating: 1, count: 31).base64EncodedString()
            #expect(try await register(client, harness, short).status == .badRequest)
            #expect(try await listed(client, harness, device.node) == nil)
        }
    }
}
