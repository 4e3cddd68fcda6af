import Crypto
import Foundation

/// Bearer tokens: 256 random bits shown once; only their SHA-256 is stored.
enum TokenHasher {
    /// A new token: 32 random bytes as 64 hex digits, prefixed `cbk_` so it is recognisable in a leak scan.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "cbk_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The stored form of a token.
    static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }

    /// A token's id, safe to show and to log: the first 12 hex digits of its hash (the token cannot be
    /// recovered from it). `user add` prints it; `user revoke --token ID` revokes that token alone.
    static func id(ofHash hash: Data) -> String {
        hash.prefix(6).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `id` (at least 8 hex digits) names the token with this hash.
    static func hash(_ hash: Data, matches id: String) -> Bool {
        let full = hash.map { String(format: "%02x", $0) }.joined()
        return id.count >= 8 && full.hasPrefix(id.lowercased())
    }

    /// The one hash among a user's `hashes` that `id` names, or a store error that says what is wrong.
    static func select(_ hashes: [Data], id: String, user: String) throws(StoreError) -> Data {
        let matching = hashes.filter { hash($0, matches: id) }
        guard matching.count <= 1 else {
            throw .conflict("several tokens of '\(user)' have an id starting with \(id): give more of the id")
        }
        guard let hash = matching.first else {
            throw .notFound("'\(user)' has no token with id \(id) (ids are the 12 hex digits 'user add' printed; at least 8 of them)")
        }
        return hash
    }

    /// Compares two byte strings in time that depends only on their length.
    static func constantTimeEquals(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
