import Foundation
import Testing
@testable import Shared

/// The digest of a membership event, the log's entry for a user joining or leaving a group.
@Suite struct MembershipDigestTests {
    static let nonce = String(repeating: "00", count: 31) + "01"

    @Test func theDigestIsTheDocumentedEncodingHashed() {
        // Computed independently (Python's hashlib over the encoding docs/protocol.md describes).
        #expect(ChangeDigest(membershipOf: "bek", group: "witnesses", joined: false, seq: 7, nonce: Self.nonce, project: "kz").hex
            == "8eeefc112a0ae73dd1d8b3f7dd8549abccabd9da4e064b207d8bb62f2b3b0d40")
        #expect(ChangeDigest(membershipOf: "ana", group: "witnesses", joined: true, seq: 1, nonce: String(repeating: "ff", count: 32), project: "kz").hex
            == "99fc7a4bef4aaf71bd09dfd8ca4991baa08e7095f395fd5163b286d85fb8afb6")
    }

    @Test func everyPartOfTheEventIsInItsDigest() {
        let digest = ChangeDigest(membershipOf: "bek", group: "witnesses", joined: false, seq: 7, nonce: Self.nonce, project: "kz")
        let others = [
            ChangeDigest(membershipOf: "bek", group: "witnesses", joined: true, seq: 7, nonce: Self.nonce, project: "kz"),
            ChangeDigest(membershipOf: "bok", group: "witnesses", joined: false, seq: 7, nonce: Self.nonce, project: "kz"),
            ChangeDigest(membershipOf: "bek", group: "witness", joined: false, seq: 7, nonce: Self.nonce, project: "kz"),
            ChangeDigest(membershipOf: "bek", group: "witnesses", joined: false, seq: 8, nonce: Self.nonce, project: "kz"),
            ChangeDigest(membershipOf: "bek", group: "witnesses", joined: false, seq: 7, nonce: Self.nonce, project: "kz2"),
            ChangeDigest(membershipOf: "bek", group: "witnesses", joined: false, seq: 7, nonce: String(repeating: "00", count: 32), project: "kz"),
            // Lengths are prefixed: a character moved from the group to the user is another event.
            ChangeDigest(membershipOf: "sbek", group: "witnesse", joined: false, seq: 7, nonce: Self.nonce, project: "kz"),
        ]
        for other in others { #expect(other != digest) }
    }

    @Test func eachEventDrawsANewNonce() {
        let nonces = (0..<100).map { _ in ChangeDigest.membershipNonce() }
        #expect(Set(nonces).count == 100 && nonces.allSatisfy { Hex.decode($0)?.count == 32 && $0 == $0.lowercased() })
    }

    @Test func noEventEncodesLikeAChange() {
        // The tags differ within their first bytes, so no event's encoding is ever a change's.
        let event = ChangeDigest.membershipEncoding(of: "bek", group: "witnesses", joined: true, seq: 1, nonce: Self.nonce, project: "kz")
        let change = ChangeDigest.canonicalEncoding(of: Fixture.change(.text("x"), at: Fixture.hlc(1, 0)), project: "kz")
        #expect(Array(event.prefix(22)) == Array("casebook-membership-v1".utf8))
        #expect(Array(change.prefix(18)) == Array("casebook-change-v1".utf8))
        #expect(Array(event.prefix(10)) != Array(change.prefix(10)))
    }
}
