import Crypto
import NIOSSL
import Shared

extension ServerKey {
    /// The fingerprint of a certificate's public key: SHA-256 over its SubjectPublicKeyInfo (DER).
    init(certificate: NIOSSLCertificate) throws {
        let spki = try certificate.extractPublicKey().toSPKIBytes()
        guard let key = ServerKey(sha256: SHA256.hash(data: spki)) else { throw TransportError.noCertificate }
        self = key
    }
}
