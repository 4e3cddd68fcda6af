import CSodium
import Foundation

/// How a passphrase becomes the key that wraps the data key: Argon2id (libsodium's `crypto_pwhash`,
/// version 1.3) with its cost and salt, stored in the key file beside the wrapped key.
struct KDFParameters: Codable, Equatable, Sendable {
    static let algorithmName = "argon2id13"
    static let saltByteCount = Int(crypto_pwhash_SALTBYTES)
    /// Bounds on what a key file may ask for: a damaged or hostile file must not make a command spend
    /// minutes or gigabytes before saying the passphrase is wrong.
    static let maximumOpslimit: UInt64 = 64
    static let maximumMemlimit: UInt64 = 1 << 30

    var algorithm: String
    var opslimit: UInt64
    var memlimit: UInt64
    var salt: Data

    /// Parameters for a new key file, with a fresh salt: Argon2id tuned to take about half a second
    /// here (64 MiB, or 256 MiB on a fast machine; passes from 3 up to 32). With the environment variable
    /// `CASEBOOK_KDF=fast` (for tests only: it makes guessing cheap) libsodium's minimum cost instead.
    static func forNewKey(environment: [String: String] = ProcessInfo.processInfo.environment) -> KDFParameters {
        if environment["CASEBOOK_KDF"] == "fast" {
            return KDFParameters(opslimit: UInt64(crypto_pwhash_opslimit_min()), memlimit: UInt64(crypto_pwhash_memlimit_min()))
        }
        return calibrated(target: 0.5)
    }

    /// Measures derivations at 3 passes and scales the passes to take about `target` seconds, then
    /// measures the result once and corrects it. The first derivation of a process pays for touching
    /// its memory for the first time (measured here: about twice a warm one), so each measure takes the
    /// faster of two runs: calibrating on a cold run gave keys a third cheaper than intended.
    static func calibrated(target: Double) -> KDFParameters {
        var memlimit: UInt64 = 64 << 20
        var seconds = measure(opslimit: 3, memlimit: memlimit)
        if seconds < target / 8 {
            // Fast enough to afford more memory, which costs a guessing attacker more than passes do.
            memlimit = 256 << 20
            seconds = measure(opslimit: 3, memlimit: memlimit)
        }
        var passes = clampedPasses(3 * target / max(seconds, 0.001))
        let check = measure(opslimit: passes, memlimit: memlimit)
        passes = clampedPasses(Double(passes) * target / max(check, 0.001))
        return KDFParameters(opslimit: passes, memlimit: memlimit)
    }

    private static func clampedPasses(_ passes: Double) -> UInt64 { UInt64(min(32, max(3, passes.rounded()))) }

    private init(opslimit: UInt64, memlimit: UInt64) {
        algorithm = Self.algorithmName
        self.opslimit = opslimit
        self.memlimit = memlimit
        var salt = Data(count: Self.saltByteCount)
        salt.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        self.salt = salt
    }

    /// The faster of two derivations with these parameters, in seconds.
    private static func measure(opslimit: UInt64, memlimit: UInt64) -> Double {
        let probe = KDFParameters(opslimit: opslimit, memlimit: memlimit)
        return (0..<2).map { _ in
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try? probe.derive(passphrase: Array("calibration".utf8))
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }.min() ?? 0
    }

    /// Whether a key file's parameters are ones this version can use within its bounds.
    var isUsable: Bool {
        algorithm == Self.algorithmName && salt.count == Self.saltByteCount
            && (UInt64(crypto_pwhash_opslimit_min())...Self.maximumOpslimit).contains(opslimit)
            && (UInt64(crypto_pwhash_memlimit_min())...Self.maximumMemlimit).contains(memlimit)
    }

    /// The 32-byte wrapping key derived from `passphrase`.
    func derive(passphrase: some PassphraseBytes) throws -> DataKey {
        var derived = [UInt8](repeating: 0, count: DataKey.byteCount)
        defer { derived.withUnsafeMutableBytes { DataKey.zero($0) } }
        let code = passphrase.withBytes { phrase in
            // An empty passphrase has no base address; crypto_pwhash still wants a pointer.
            withUnsafeBytes(of: UInt8(0)) { zero in
                salt.withUnsafeBytes { salt in
                    crypto_pwhash(&derived, UInt64(derived.count), (phrase.baseAddress ?? zero.baseAddress!).assumingMemoryBound(to: CChar.self),
                                  UInt64(phrase.count), salt.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                  opslimit, Int(memlimit), crypto_pwhash_ALG_ARGON2ID13)
                }
            }
        }
        guard code == 0 else {
            throw ClientError("cannot derive the key from the passphrase (out of memory: Argon2id needs \(memlimit >> 20) MiB): close other programs and try again")
        }
        return derived.withUnsafeBytes { DataKey(copying: $0)! }
    }
}
