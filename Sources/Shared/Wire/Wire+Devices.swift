import Foundation

extension Wire {
    /// `POST /v1/projects/{p}/devices`: registers the caller's replica (its node id) with its
    /// Ed25519 public key (32 bytes, base64).
    package struct DeviceRegistration: Codable, Sendable, Equatable {
        package var node: String
        package var signingKey: String
        package init(node: String, signingKey: String) {
            self.node = node
            self.signingKey = signingKey
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
        /// When it was registered, milliseconds since the epoch.
        package var registeredAt: UInt64
        /// When an admin revoked it (its new changes are refused from then on), nil while it is valid.
        package var revokedAt: UInt64?
        package init(node: String, owner: String, signingKey: String, registeredAt: UInt64, revokedAt: UInt64? = nil) {
            self.node = node
            self.owner = owner
            self.signingKey = signingKey
            self.registeredAt = registeredAt
            self.revokedAt = revokedAt
        }
    }

    /// The answer to `GET /v1/projects/{p}/devices` (and to a registration).
    package struct DeviceList: Codable, Sendable {
        package var devices: [Device]
        package var serverTime: UInt64
        package init(devices: [Device], serverTime: UInt64) {
            self.devices = devices
            self.serverTime = serverTime
        }
    }
}

// A batch on the wire: `{"id": HEX, "node": NODE, "digests": BASE64, "signature": BASE64}`, the
// digests as one base64 text of their concatenated 32-byte values (docs/protocol.md, "Signatures").
extension SignedBatch: Codable {
    private enum CodingKeys: String, CodingKey { case id, node, digests, signature }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let node = try container.decode(String.self, forKey: .node)
        guard let nodeID = NodeID(node) else {
            throw DecodingError.dataCorruptedError(forKey: .node, in: container, debugDescription: "not a node id")
        }
        guard let digests = SignedBatch.digests(packed: try container.decode(String.self, forKey: .digests)) else {
            throw DecodingError.dataCorruptedError(forKey: .digests, in: container, debugDescription: "not base64 of 32-byte digests")
        }
        guard let signature = Data(base64Encoded: try container.decode(String.self, forKey: .signature)) else {
            throw DecodingError.dataCorruptedError(forKey: .signature, in: container, debugDescription: "not base64")
        }
        self.init(id: try container.decode(String.self, forKey: .id), node: nodeID, digests: digests, signature: Array(signature))
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(node.rawValue, forKey: .node)
        try container.encode(packedDigests, forKey: .digests)
        try container.encode(Data(signature).base64EncodedString(), forKey: .signature)
    }
}
