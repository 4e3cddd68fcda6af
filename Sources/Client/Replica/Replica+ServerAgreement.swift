import Crypto
import Foundation
import GRDB
import Shared

extension Replica {
    /// Keeps the server's agreement key as the device list gave it (nil from a server before bundles).
    func storeServerAgreementKey(_ text: String?) async throws {
        try await write { db in try Setting.set(.serverAgreementKey, text, db) }
    }

    /// The server's agreement key for bundles, as the device list last gave it (nil: none).
    func serverAgreementKey() async throws -> Curve25519.KeyAgreement.PublicKey? {
        let text = try await read { db in try Setting.get(.serverAgreementKey, db) }
        return text.flatMap { Data(base64Encoded: $0) }.flatMap { try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: $0) }
    }
}
