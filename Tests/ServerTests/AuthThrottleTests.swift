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
            #expect(await throttle.failed("10.0.0.9") == .wait(.zero))
        }
        guard case .wait(let first) = await throttle.failed("10.0.0.9") else { Issue.record("the fourth failure should wait"); return }
        #expect(first >= .milliseconds(100))
        // Parallel attempts queue behind each other: each waits longer than the one before.
        guard case .wait(let second) = await throttle.failed("10.0.0.9"), case .wait(let third) = await throttle.failed("10.0.0.9") else {
            Issue.record("parallel failures should wait"); return
        }
        #expect(second > first)
        #expect(third > second)
        #expect(await throttle.penalty(failures: 100) == .seconds(2))
        // Another address is not affected; a success clears the record.
        #expect(await throttle.failed("10.0.0.10") == .wait(.zero))
        await throttle.succeeded("10.0.0.9")
        #expect(await throttle.failures("10.0.0.9") == 0)
        #expect(await throttle.failed("10.0.0.9") == .wait(.zero))
    }

    @Test func theWaitAndTheQueueOfOneAddressAreBounded() async {
        let throttle = AuthThrottle(policy: .init(freeFailures: 1, window: .seconds(60), baseDelay: .milliseconds(100), maxDelay: .seconds(1),
                                                  maxWaiting: 3, maxWait: .seconds(2)))
        #expect(await throttle.failed("10.0.0.9") == .wait(.zero))
        var verdicts: [AuthThrottle.Verdict] = []
        for _ in 0..<10 { verdicts.append(await throttle.failed("10.0.0.9")) }
        let waits = verdicts.compactMap { if case .wait(let wait) = $0 { wait } else { nil } }
        // Never more than three held at once, none longer than the bound; the rest are told when to come back.
        #expect(waits.count <= 3 && !waits.isEmpty)
        #expect(waits.allSatisfy { $0 <= .seconds(2) })
        #expect(verdicts.count - waits.count >= 7)
        for verdict in verdicts {
            if case .refuse(let retryAfter) = verdict { #expect(retryAfter > .zero && retryAfter <= .seconds(2)) }
        }
        // A failure that finished waiting frees its place.
        await throttle.doneWaiting("10.0.0.9")
        #expect(await throttle.failures("10.0.0.9") == 11)
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

    /// Forty abandoned wrong-token requests used to delay the right token from the same address by
    /// the sum of their waits (minutes); the token is now checked first, and only failures wait.
    @Test(arguments: StoreKind.allCases) func guessersAtAnAddressDoNotDelayAValidTokenFromIt(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store) {
            $0.authThrottle = .init(freeFailures: 2, window: .seconds(60), baseDelay: .seconds(1), maxDelay: .seconds(5))
        }
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            for _ in 0..<3 {
                let response = try await client.execute(uri: "/v1/projects/kz/pull", method: .get, headers: harness.headers("cbk_wrong"))
                #expect(response.status == .unauthorized)
            }
            let guessers = Task {
                try await withThrowingTaskGroup(of: TestResponse.self) { group in
                    for _ in 0..<40 {
                        group.addTask { try await client.execute(uri: "/v1/projects/kz/pull", method: .get, headers: harness.headers("cbk_wrong")) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            let started = ContinuousClock.now
            #expect(try await harness.pull(client, as: "ana").changes.isEmpty)
            let health = try await client.execute(uri: "/v1/health", method: .get)
            #expect(health.status == .ok)
            // Before the fix it queued behind the guessers' 40 slots of 2 s: 80 s. The bound leaves room for a
            // heavily loaded machine (full parallel test runs on two busy cores, beside the property tests of the
            // text merge, took 30-55 s here; alone it takes well under a second).
            #expect(ContinuousClock.now - started < .seconds(65), "a valid token waited \(ContinuousClock.now - started)")
            // The guessers got 401 after a bounded wait, or 429 with the time to wait.
            let answers = try await guessers.value
            #expect(answers.allSatisfy { $0.status == .unauthorized || $0.status == .tooManyRequests })
            let throttled = answers.filter { $0.status == .tooManyRequests }
            #expect(!throttled.isEmpty)
            #expect(throttled.allSatisfy { Int($0.headers[.retryAfter] ?? "") ?? 0 >= 1 && $0.error?.code == "throttled" })
        }
    }
}
