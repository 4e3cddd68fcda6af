import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
@testable import Server
@testable import Shared

@Suite struct AdminStoreTests {
    @Test(arguments: StoreKind.allCases) func projectsAndUsersAreCheckedForClashes(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        await #expect(throws: StoreError.self) { try await harness.store.createProject(name: "kz", schema: .upr, now: 1) }
        await #expect(throws: StoreError.self) {
            try await harness.store.addUser(name: "x", project: "missing", role: .viewer, tokenHash: Data([1]), now: 1)
        }
        await #expect(throws: StoreError.self) { try await harness.store.revokeUser(name: "nobody", now: 1) }
        // Tokens are stored only as hashes.
        let stored = try await harness.storedTokenHashes()
        for token in harness.tokens.values {
            #expect(!stored.contains(Data(token.utf8)))
            #expect(stored.contains(TokenHasher.hash(token)))
        }
    }

    /// A counter, a clock or a short seed would pass a check that two tokens differ; this one
    /// looks at every bit: over 256 tokens each of the 256 bits is set about half the time, and
    /// tokens made one after the other differ in about half their bits.
    @Test func tokensHave256BitsOfRandomness() throws {
        let tokens = (0..<256).map { _ in TokenHasher.generate() }
        let hexDigits = Set("0123456789abcdef")
        var bits: [[Bool]] = []
        for token in tokens {
            #expect(token.hasPrefix("cbk_"))
            #expect(token.count == 4 + 64)
            let hex = token.dropFirst(4)
            #expect(hex.allSatisfy(hexDigits.contains), "\(token)")
            let bytes = Data(hex: String(hex))
            try #require(bytes.count == 32)
            bits.append(bytes.flatMap { byte in (0..<8).map { byte >> $0 & 1 == 1 } })
        }
        #expect(Set(tokens).count == tokens.count)
        // Binomial(256, 1/2) has a standard deviation of 8: 64 away from 128 is 8 deviations (p < 1e-14 a bit).
        for bit in 0..<256 {
            let set = bits.count { $0[bit] }
            #expect((64...192).contains(set), "bit \(bit) is set in \(set) of 256 tokens")
        }
        for (a, b) in zip(bits, bits.dropFirst()) {
            let distance = zip(a, b).count { $0 != $1 }
            #expect((64...192).contains(distance), "consecutive tokens differ in only \(distance) bits")
        }
        #expect(TokenHasher.constantTimeEquals(Data([1, 2]), Data([1, 2])))
        #expect(!TokenHasher.constantTimeEquals(Data([1, 2]), Data([1, 3])))
        #expect(!TokenHasher.constantTimeEquals(Data([1, 2]), Data([1])))
    }

    /// The status of a pull of `project` with `token`.
    func pullStatus(_ client: some TestClientProtocol, _ token: String, project: String = "kz") async throws -> HTTPResponse.Status {
        try await client.execute(uri: "/v1/projects/\(project)/pull", method: .get, headers: [.authorization: "Bearer \(token)"]).status
    }

    @Test(arguments: StoreKind.allCases) func oneTokenCanBeRevokedAlone(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let laptop = try #require(harness.tokens["ana"])
        let phone = TokenHasher.generate()
        try await harness.store.addUser(name: "ana", project: "kz", role: .researcher, tokenHash: TokenHasher.hash(phone), now: ServerHarness.now)
        let laptopID = TokenHasher.id(ofHash: TokenHasher.hash(laptop))
        #expect(laptopID.count == 12)
        await #expect(throws: StoreError.self) { try await harness.store.revokeToken(user: "bek", tokenID: laptopID) }
        await #expect(throws: StoreError.self) { try await harness.store.revokeToken(user: "nobody", tokenID: laptopID) }
        try await harness.store.revokeToken(user: "ana", tokenID: String(laptopID.prefix(8)))
        try await harness.app.test(.router) { (client) async throws in
            #expect(try await pullStatus(client, laptop) == .unauthorized)
            #expect(try await pullStatus(client, phone) == .ok)
            #expect(try await pullStatus(client, try #require(harness.tokens["bek"])) == .ok)
        }
    }

    @Test(arguments: StoreKind.allCases) func aUserCanBeRemovedFromOneProject(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let token = try #require(harness.tokens["bek"])
        try await harness.store.addUser(name: "bek", project: "other", role: .researcher, tokenHash: TokenHasher.hash(TokenHasher.generate()), now: ServerHarness.now)
        try await harness.store.removeMember(user: "bek", project: "kz")
        await #expect(throws: StoreError.self) { try await harness.store.removeMember(user: "bek", project: "kz") }
        await #expect(throws: StoreError.self) { try await harness.store.removeMember(user: "nobody", project: "kz") }
        try await harness.app.test(.router) { (client) async throws in
            #expect(try await pullStatus(client, token) == .forbidden)
            #expect(try await pullStatus(client, token, project: "other") == .ok)
            #expect(try await pullStatus(client, try #require(harness.tokens["ana"])) == .ok)
        }
    }

    @Test(arguments: StoreKind.allCases) func aRevokedNameCanBeAddedAgainWithOnlyItsNewProject(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let old = try #require(harness.tokens["ana"])
        try await harness.store.revokeUser(name: "ana", now: ServerHarness.now)
        let new = TokenHasher.generate()
        try await harness.store.addUser(name: "ana", project: "other", role: .viewer, tokenHash: TokenHasher.hash(new), now: ServerHarness.now + 1)
        try await harness.app.test(.router) { (client) async throws in
            #expect(try await pullStatus(client, old) == .unauthorized)
            #expect(try await pullStatus(client, old, project: "other") == .unauthorized)
            #expect(try await pullStatus(client, new, project: "other") == .ok)
            // The memberships from before the revocation are not given back.
            #expect(try await pullStatus(client, new) == .forbidden)
        }
    }
}
