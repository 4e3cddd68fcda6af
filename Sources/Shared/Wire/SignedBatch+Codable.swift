import Foundation

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
