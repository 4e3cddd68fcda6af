import Foundation

extension Wire {
    /// `POST /v1/projects/{p}/devices`: registers the caller's replica (its node id) with its
    /// Ed25519 public key (32 bytes, base64) and its X25519 agreement key, signed by the former
    /// (`DeviceBinding`). Replicas from before agreement keys send none; they add it later by
    /// registering again with the same signing key.
    package struct DeviceRegistration: Codable, Sendable, Equatable {
        package var node: String
        package var signingKey: String
        package var agreementKey: String?
        package var agreementSignature: String?
        package init(node: String, signingKey: String, agreementKey: String? = nil, agreementSignature: String? = nil) {
            self.node = node
            self.signingKey = signingKey
            self.agreementKey = agreementKey
            self.agreementSignature = agreementSignature
        }
    }

    /// One registered device of a project, as `GET /v1/projects/{p}/devices` lists it.
    package struct Device: Codable, Sendable, Equatable {
        /// The replica's node id.
        package var node: String
        /// The user it belongs to.
        package var owner: String
        /// Its Ed25519 public key, base64.
        package var signingKey: String
        /// Its X25519 agreement key, base64; nil for a device that has not sent one yet.
        package var agreementKey: String?
        /// The signature of `signingKey` over the agreement key (`DeviceBinding`), base64.
        package var agreementSignature: String?
        /// When it was registered, milliseconds since the epoch.
        package var registeredAt: UInt64
        /// When an admin revoked it (its new changes are refused from then on), nil while it is valid.
        package var revokedAt: UInt64?
        package init(node: String, owner: String, signingKey: String, agreementKey: String? = nil, agreementSignature: String? = nil,
                     registeredAt: UInt64, revokedAt: UInt64? = nil) {
            self.node = node
            self.owner = owner
            self.signingKey = signingKey
            self.agreementKey = agreementKey
            self.agreementSignature = agreementSignature
            self.registeredAt = registeredAt
            self.revokedAt = revokedAt
        }
    }

    /// The answer to `GET /v1/projects/{p}/devices` (and to a registration).
    package struct DeviceList: Codable, Sendable {
        package var devices: [Device]
        package var serverTime: UInt64
        /// The project's server agreement key (X25519 public key, base64): replicas seal bundles for it
        /// too, so that a courier can load one into the server. Absent from servers before bundles.
        package var serverAgreementKey: String?
        package init(devices: [Device], serverTime: UInt64, serverAgreementKey: String? = nil) {
            self.devices = devices
            self.serverTime = serverTime
            self.serverAgreementKey = serverAgreementKey
        }
    }
}
