import Foundation

/// Slows down repeated failed authentication from one address.
///
/// The first `freeFailures` failures within `window` cost nothing. After that, every request
/// from the address that needs authentication waits for a slot: each slot is `baseDelay`
/// doubled per extra failure (at most `maxDelay`) after the previous one, so parallel guessing
/// is serialised too. A success from the address clears its record.
actor AuthThrottle {
    struct Policy: Sendable {
        var freeFailures = 10
        var window: Duration = .seconds(60)
        var baseDelay: Duration = .milliseconds(200)
        var maxDelay: Duration = .seconds(5)
    }

    private struct Entry {
        var failures: Int
        var since: ContinuousClock.Instant
        var nextSlot: ContinuousClock.Instant
    }

    let policy: Policy
    private var entries: [String: Entry] = [:]
    private let clock = ContinuousClock()

    init(policy: Policy = Policy()) { self.policy = policy }

    /// How long a request from `key` must wait now (and reserves its slot).
    func reserve(_ key: String) -> Duration {
        let now = clock.now
        guard var entry = entries[key] else { return .zero }
        if now - entry.since > policy.window && now >= entry.nextSlot {
            entries[key] = nil
            return .zero
        }
        guard entry.failures >= policy.freeFailures else { return .zero }
        let slot = max(now, entry.nextSlot) + penalty(failures: entry.failures)
        entry.nextSlot = slot
        entries[key] = entry
        return slot - now
    }

    /// The wait added per request after `failures` failures.
    func penalty(failures: Int) -> Duration {
        let extra = max(0, failures - policy.freeFailures)
        let factor = 1 << min(extra, 16)
        return min(policy.baseDelay * factor, policy.maxDelay)
    }

    /// Records a failed attempt.
    func failed(_ key: String) {
        let now = clock.now
        var entry = entries[key] ?? Entry(failures: 0, since: now, nextSlot: now)
        entry.failures += 1
        entries[key] = entry
        if entries.count > 10_000 { prune(now: now) }
    }

    /// Records a success: the address is trusted again.
    func succeeded(_ key: String) {
        entries[key] = nil
    }

    /// Failures counted for `key` (for tests and logs).
    func failures(_ key: String) -> Int { entries[key]?.failures ?? 0 }

    private func prune(now: ContinuousClock.Instant) {
        entries = entries.filter { now - $0.value.since <= policy.window || now < $0.value.nextSlot }
    }
}
