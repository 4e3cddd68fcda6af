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
    ///
    /// No wall-clock bound (one failed at 76 s in a loaded full run): each held guess waits an hour,
    /// so a valid token that queued behind them would never come back before the time limit; the test
    /// checks that it is answered while all eight are still held, and only then lets them go.
    /// The time limit only has to be shorter than the hour a queued token would wait: Swift Testing
    /// counts a test's time from when it is started, and in a full run on two cores a test can wait
    /// for a thread for most of the run (simple tests reported 975 s; 10 minutes failed both cases).
    @Test(.timeLimit(.minutes(40)), arguments: StoreKind.allCases)
    func guessersAtAnAddressDoNotDelayAValidTokenFromIt(store: StoreKind) async throws {
        let hour = Duration.seconds(3600)
        let harness = try await ServerHarness(store: store) {
            $0.authThrottle = .init(freeFailures: 0, window: .seconds(60), baseDelay: hour, maxDelay: hour, maxWaiting: 8, maxWait: hour * 10)
        }
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { (client) async throws in
            let (answers, answered) = AsyncStream.makeStream(of: TestResponse.self)
            let guessers = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<40 {
                        group.addTask {
                            if let response = try? await client.execute(uri: "/v1/projects/kz/pull", method: .get, headers: harness.headers("cbk_wrong")) {
                                answered.yield(response)
                            }
                        }
                    }
                }
                answered.finish()
            }
            // Eight guesses take the eight waiting slots (an hour apart); the other 32 are answered 429
            // at once with the time to wait. Once 32 answers are in, all 40 have met the throttle.
            var iterator = answers.makeAsyncIterator()
            var refused: [TestResponse] = []
            while refused.count < 32, let answer = await iterator.next() { refused.append(answer) }
            #expect(refused.count == 32)
            #expect(refused.allSatisfy { $0.status == .tooManyRequests && $0.error?.code == "throttled" })
            #expect(refused.allSatisfy { Int($0.headers[.retryAfter] ?? "") ?? 0 >= 1 })
            // The valid token from the same address, while eight guesses are held for hours: answered.
            #expect(try await harness.pull(client, as: "ana").changes.isEmpty)
            #expect(try await client.execute(uri: "/v1/health", method: .get).status == .ok)
            // Only now are the held guesses let go (cancelled): each gets its 401, none got anything before.
            guessers.cancel()
            var held: [TestResponse] = []
            while let answer = await iterator.next() { held.append(answer) }
            #expect(held.count == 8)
            #expect(held.allSatisfy { $0.status == .unauthorized })
        }
    }
}
