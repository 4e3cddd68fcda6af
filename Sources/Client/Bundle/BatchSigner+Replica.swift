import Crypto
import Foundation
import Shared

extension BatchSigner {
    /// The signer of this replica's device, for batches made without a sync (bundles).
    static func of(_ replica: Replica, settings: ReplicaSettings) async throws -> BatchSigner {
        let (raw, _) = try await replica.signingKey()
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw ClientError("the replica's signing key is damaged: start a new replica with 'casebook init'")
        }
        return BatchSigner(key: key, project: settings.project, node: settings.node)
    }
}
