import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

@Suite struct AuthThrottleTests {
    @Test func repeatedFailuresFromOneAddressAreSlowedDownAndASuccessClearsThem() async {
        let throttle = AuthThrottle(policy: .init(freeFailures: 3, window: .seconds(60), baseDelay: .milliseconds(100), maxDelay: .seconds(2)))
        for _ in 0..<3 {
            #expect(await throttle.reserve("10.0.0.9") == .zero)
            await throttle.failed("10.0.0.9")
        }
        let first = await throttle.reserve("10.0.0.9")
        #expect(first >= .milliseconds(100))
        await throttle.failed("10.0.0.9")
        // Parallel attempts queue behind each other: each waits longer than the one before.
        let second = await throttle.reserve("10.0.0.9")
        let third = await throttle.reserve("10.0.0.9")
        #expect(second > first)
        #expect(third > second)
        #expect(await throttle.penalty(failures: 100) == .seconds(2))
        // Another address is not affected; a success clears the record.
        #expect(await throttle.reserve("10.0.0.10") == .zero)
        await throttle.succeeded("10.0.0.9")
        #expect(await throttle.reserve("10.0.0.9") == .zero)
    }

    @Test func behindATrustedProxyFailuresAreCountedPerClient() {
        let proxies: Set<String> = ["10.0.0.2", "10.0.0.3"]
        // A direct peer is itself; its X-Forwarded-For (anyone can send one) is ignored.
        #expect(AuthGuard.clientKey(peer: "198.51.100.4", forwardedFor: "203.0.113.7", trustedProxies: proxies) == "198.51.100.4")
        // Through a trusted proxy: the client the proxy saw.
        #expect(AuthGuard.clientKey(peer: "10.0.0.2", forwardedFor: "203.0.113.7", trustedProxies: proxies) == "203.0.113.7")
        // A forged entry on the left does not help: the rightmost untrusted hop counts.
        #expect(AuthGuard.clientKey(peer: "10.0.0.2", forwardedFor: "1.2.3.4, 203.0.113.7", trustedProxies: proxies) == "203.0.113.7")
        // Chained proxies are skipped.
        #expect(AuthGuard.clientKey(peer: "10.0.0.2", forwardedFor: "203.0.113.7, 10.0.0.3", trustedProxies: proxies) == "203.0.113.7")
        // A trusted proxy that sends no header is counted as itself.
        #expect(AuthGuard.clientKey(peer: "10.0.0.2", forwardedFor: nil, trustedProxies: proxies) == "10.0.0.2")
        #expect(SocketAddressCheck.isIPAddress("127.0.0.1") && SocketAddressCheck.isIPAddress("::1"))
        #expect(!SocketAddressCheck.isIPAddress("proxy.example.org"))
    }

    @Test(arguments: StoreKind.allCases) func theServerCountsFailedTokensPerAddress(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store) {
            $0.authThrottle = .init(freeFailures: 2, window: .seconds(60), baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
        }
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            for _ in 0..<4 {
                let response = try await client.execute(uri: "/v1/projects/kz/pull", method: .get, headers: harness.headers("cbk_wrong"))
                #expect(response.status == .unauthorized)
            }
            // The right token still works (after its wait), and clears the record.
            #expect(try await harness.pull(client, as: "ana").changes.isEmpty)
        }
    }
}
