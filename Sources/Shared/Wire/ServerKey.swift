import Foundation

/// The fingerprint of a server's TLS public key: `sha256:` and the base64 of the SHA-256 of the
/// certificate's SubjectPublicKeyInfo (what `openssl x509 -pubkey -noout | openssl pkey -pubin
/// -outform der | openssl dgst -sha256 -binary | base64` prints). A replica pins it at `init`.
package struct ServerKey: Hashable, Sendable, CustomStringConvertible {
    /// The fingerprint as written: `sha256:` and 44 base64 characters.
    package let text: String

    /// The prefix naming the hash.
    package static let prefix = "sha256:"
    /// How many keys one `Casebook-Server-Keys` header may list: a server announces its current
    /// key and the few it will switch to, never more.
    package static let maxAnnounced = 8

    /// Reads a fingerprint; nil unless it is `sha256:` and the canonical base64 of 32 bytes.
    package init?(_ text: String) {
        guard text.hasPrefix(Self.prefix) else { return nil }
        let encoded = String(text.dropFirst(Self.prefix.count))
        guard let digest = Data(base64Encoded: encoded), digest.count == 32, digest.base64EncodedString() == encoded else { return nil }
        self.text = text
    }

    /// The fingerprint of a SHA-256 digest (32 bytes) of a SubjectPublicKeyInfo.
    package init?(sha256 digest: some Sequence<UInt8>) {
        let bytes = Data(digest)
        guard bytes.count == 32 else { return nil }
        text = Self.prefix + bytes.base64EncodedString()
    }

    package var description: String { text }

    /// The keys a `Casebook-Server-Keys` header lists (comma-separated, the current key first);
    /// nil when it is empty, lists too many, or holds anything that is not a fingerprint.
    package static func list(_ header: String) -> [ServerKey]? {
        let items = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty, items.count <= maxAnnounced else { return nil }
        var keys: [ServerKey] = []
        for item in items {
            guard let key = ServerKey(item) else { return nil }
            if !keys.contains(key) { keys.append(key) }
        }
        return keys
    }

    /// The header's text for `keys`, in order.
    package static func header(_ keys: [ServerKey]) -> String {
        keys.map(\.text).joined(separator: ", ")
    }
}
