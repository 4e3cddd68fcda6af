import Crypto
import Foundation
import Shared

/// The project's server agreement key: replicas seal every bundle for it as for a device, so that
/// `casebook-server bundle apply` can open a bundle a courier brings. Kept in the store, like
/// everything else the server reads: a seized server reads bundles sealed for it, as it reads what
/// replicas sync (docs/security.md, "Bundles").
enum ServerAgreementKey {
    /// The key of `project`, made and stored at first need.
    static func of(project: String, store: any SyncStore, now: UInt64) async throws -> Curve25519.KeyAgreement.PrivateKey {
        let made = Array(Curve25519.KeyAgreement.PrivateKey().rawRepresentation)
        let raw = try await store.agreementKey(project: project, made: made, now: now)
        guard let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw) else {
            throw StoreDefect(description: "the stored agreement key of project \(project) is not 32 bytes")
        }
        return key
    }
}
