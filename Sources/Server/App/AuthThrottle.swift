import Foundation

/// Slows down repeated failed authentication from one address, without slowing its users.
///
/// A token is checked first; only a failure waits. The first `freeFailures` failures within
/// `window` are answered at once. After that each failure waits for a slot: `baseDelay` doubled per
/// extra failure (at most `maxDelay`) after the previous slot, so parallel guessing is serialised.
/// At most `maxWaiting` failures from one address wait at once; beyond that, or when the next slot
/// is more than `maxWait` away, a failure is answered 429 at once with the time to wait, so an
/// address cannot pile up sleeping requests. A valid token is never made to wait, whatever
/// guessers at the same address do; a success clears the address's record.
actor AuthThrottle {
    struct Policy: Sendable {
        var freeFailures = 10
        var window: Duration = .seconds(60)
        var baseDelay: Duration = .milliseconds(200)
        var maxDelay: Duration = .seconds(5)
        /// The most failed requests from one address held waiting at once.
        var maxWaiting = 8
        /// The longest a failure is held before its answer.
        var maxWait: Duration = .seconds(10)
    }

    /// What happens to a failed authentication.
    enum Verdict: Equatable, Sendable {
        /// Answer 401 after this wait (zero for the free failures); call `doneWaiting` after it.
        case wait(Duration)
        /// Answer 429 now: the address already has as many failures waiting as it may.
        case refuse(retryAfter: Duration)
    }

    private struct Entry {
        var failures: Int
        var since: ContinuousClock.Instant
        var nextSlot: ContinuousClock.Instant
        var waiting = 0
    }

    let policy: Policy
    private var entries: [String: Entry] = [:]
    private let clock = ContinuousClock()

    init(policy: Policy = Policy()) { self.policy = policy }

    /// Records a failed attempt from `key` and decides how it is answered.
    func failed(_ key: String) -> Verdict {
        let now = clock.now
        var entry = entries[key] ?? Entry(failures: 0, since: now, nextSlot: now)
        if now - entry.since > policy.window && now >= entry.nextSlot && entry.waiting == 0 {
            entry = Entry(failures: 0, since: now, nextSlot: now)
        }
        entry.failures += 1
        defer {
            entries[key] = entry
            if entries.count > 10_000 { prune(now: now) }
        }
        guard entry.failures > policy.freeFailures else { return .wait(.zero) }
        let slot = max(now, entry.nextSlot) + penalty(failures: entry.failures)
        guard entry.waiting < policy.maxWaiting, slot - now <= policy.maxWait else {
            return .refuse(retryAfter: max(entry.nextSlot - now, penalty(failures: entry.failures)))
        }
        entry.nextSlot = slot
        entry.waiting += 1
        return .wait(slot - now)
    }

    /// A failed request from `key` finished its wait.
    func doneWaiting(_ key: String) {
        guard var entry = entries[key], entry.waiting > 0 else { return }
        entry.waiting -= 1
        entries[key] = entry
    }

    /// The wait added per failure after `failures` failures.
    func penalty(failures: Int) -> Duration {
        let extra = max(0, failures - policy.freeFailures)
        let factor = 1 << min(extra, 16)
        return min(policy.baseDelay * factor, policy.maxDelay)
    }

    /// Records a success: the address is trusted again (failures already waiting keep their slot).
    func succeeded(_ key: String) {
        guard let entry = entries[key] else { return }
        entries[key] = entry.waiting == 0 ? nil : Entry(failures: 0, since: clock.now, nextSlot: entry.nextSlot, waiting: entry.waiting)
    }

    /// Failures counted for `key` (for tests and logs).
    func failures(_ key: String) -> Int { entries[key]?.failures ?? 0 }

    private func prune(now: ContinuousClock.Instant) {
        entries = entries.filter { now - $0.value.since <= policy.window || now < $0.value.nextSlot || $0.value.waiting > 0 }
    }
}
