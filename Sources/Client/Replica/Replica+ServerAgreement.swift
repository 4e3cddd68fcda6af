import Crypto
import Foundation
import GRDB
import Shared

extension Replica {
    /// The server's agreement key for bundles, as the device list last gave it (nil: none).
    func serverAgreementKey() async throws -> Curve25519.KeyAgreement.PublicKey? { nil }
}
