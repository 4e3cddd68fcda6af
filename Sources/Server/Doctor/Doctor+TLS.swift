import Foundation
import NIOSSL

// The TLS files `serve --tls-cert --tls-key` would load.
extension Doctor {
    /// The certificate chain and key are readable PEM, belong together, are valid now (and not
    /// about to expire), and the key is not readable by every user.
    static func checkTLS(certificate: String, key: String, now: Date) -> [DoctorFinding] {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            return [DoctorFinding(.failed, "TLS", "cannot read the certificate \(certificate) (\(error)): give a PEM file this user can read")]
        }
        guard let leaf = chain.first else {
            return [DoctorFinding(.failed, "TLS", "\(certificate) holds no certificate: give the PEM certificate chain, the server's own certificate first")]
        }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            return [DoctorFinding(.failed, "TLS", "cannot read the private key \(key) (\(error)): give the unencrypted PEM key, readable by the server's user")]
        }
        var findings: [DoctorFinding] = []
        if !keyMatches(chain: chain, key: privateKey) {
            findings.append(DoctorFinding(.failed, "TLS", "the key \(key) does not belong to the certificate \(certificate): give the key the certificate was issued for (or the certificate issued for this key)"))
        }
        var info = stat()
        if stat(key, &info) == 0, info.st_mode & 0o007 != 0 {
            findings.append(DoctorFinding(.failed, "TLS", "every user can read the private key \(key) (mode \(octal(info.st_mode & 0o777))): chmod 640 \(key) and give it to the server's group (chgrp casebook)"))
        }
        findings.append(validity(of: leaf, file: certificate, now: now))
        if findings.count == 1, findings[0].status == .ok {
            findings[0].message = "the certificate and key match; \(findings[0].message)"
        }
        return findings
    }

    /// Whether the key belongs to the chain's first certificate (BoringSSL refuses a context otherwise).
    private static func keyMatches(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey) -> Bool {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        return (try? NIOSSLContext(configuration: configuration)) != nil
    }

    /// Fails outside the certificate's validity; warns three weeks before it ends.
    static func validity(of certificate: NIOSSLCertificate, file: String, now: Date) -> DoctorFinding {
        let start = Date(timeIntervalSince1970: TimeInterval(certificate.notValidBefore))
        let end = Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter))
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withFullDate]
        let day = { (date: Date) in format.string(from: date) }
        if now < start {
            return DoctorFinding(.failed, "TLS", "the certificate \(file) is valid only from \(day(start)): check this machine's clock, or use a certificate valid now")
        }
        if now > end {
            return DoctorFinding(.failed, "TLS", "the certificate \(file) expired on \(day(end)): renew it (replicas refuse an expired certificate)")
        }
        let daysLeft = Int(end.timeIntervalSince(now) / 86_400)
        if daysLeft < 21 {
            return DoctorFinding(.warning, "TLS", "the certificate \(file) expires on \(day(end)), in \(daysLeft) day(s): renew it")
        }
        return DoctorFinding(.ok, "TLS", "valid until \(day(end))")
    }
}
