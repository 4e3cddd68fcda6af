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

    @Test func tokensHave256BitsOfRandomness() {
        let token = TokenHasher.generate()
        #expect(token.hasPrefix("cbk_"))
        #expect(token.count == 4 + 64)
        #expect(TokenHasher.generate() != token)
        #expect(TokenHasher.constantTimeEquals(Data([1, 2]), Data([1, 2])))
        #expect(!TokenHasher.constantTimeEquals(Data([1, 2]), Data([1, 3])))
        #expect(!TokenHasher.constantTimeEquals(Data([1, 2]), Data([1])))
    }
}
