import Crypto
import NIOSSL
import Shared

extension ServerKey {
    /// The fingerprint of a certificate's public key: SHA-256 over its SubjectPublicKeyInfo (DER),
    /// the same the client computes from the certificate it is shown.
    init(certificate: NIOSSLCertificate) throws {
        let spki = try certificate.extractPublicKey().toSPKIBytes()
        guard let key = ServerKey(sha256: SHA256.hash(data: spki)) else { throw CommandError("cannot fingerprint the certificate's key") }
        self = key
    }
}
