import Foundation
import Testing
@testable import Shared

/// Key fingerprints as `init --pin`, `casebook pin` and the `Casebook-Server-Keys` header write them.
@Suite struct ServerKeyTests {
    static let digest = (0..<32).map { UInt8($0 * 7 % 256) }
    static let text = "sha256:" + Data(digest).base64EncodedString()

    @Test func aFingerprintIsSha256AndTheCanonicalBase64OfThirtyTwoBytes() throws {
        let key = try #require(ServerKey(Self.text))
        #expect(key == ServerKey(sha256: Self.digest))
        #expect(key.text.count == 7 + 44)
        #expect(ServerKey(sha256: Self.digest.dropLast()) == nil)
        let spareBitsSet = String(Self.text.dropLast(2)) + "B="
        for malformed in ["", "sha256:", "SHA256:" + Self.text.dropFirst(7), "sha1:" + Self.text.dropFirst(7), Self.text + "A",
                          String(Self.text.dropLast()), spareBitsSet, " " + Self.text, "sha256:" + Data(Self.digest.dropLast()).base64EncodedString()] {
            #expect(ServerKey(malformed) == nil, "\(malformed)")
        }
    }

    @Test func theHeaderListsKeysInOrderAndIsReadWholeOrNotAtAll() throws {
        let first = try #require(ServerKey(Self.text))
        let second = try #require(ServerKey(sha256: [UInt8](repeating: 9, count: 32)))
        #expect(ServerKey.header([first, second]) == "\(first), \(second)")
        #expect(ServerKey.list(ServerKey.header([first, second])) == [first, second])
        #expect(ServerKey.list("\(first),\(second),\(first)") == [first, second])
        #expect(ServerKey.list("  \(first)  ") == [first])
        for bad in ["", ",", "\(first),", "\(first), nonsense", "\(first); \(second)"] {
            #expect(ServerKey.list(bad) == nil, "\(bad)")
        }
        let many = (0...ServerKey.maxAnnounced).compactMap { ServerKey(sha256: [UInt8](repeating: UInt8($0), count: 32)) }
        #expect(ServerKey.list(ServerKey.header(Array(many.prefix(ServerKey.maxAnnounced)))) != nil)
        #expect(ServerKey.list(ServerKey.header(many)) == nil)
    }
}
