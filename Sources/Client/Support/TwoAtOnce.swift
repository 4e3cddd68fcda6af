import Dispatch

/// Runs two pieces of CPU work at once and returns when both are done: hashing a chunk on one core
/// while it is sealed and written on the other. The caller makes sure the two touch disjoint state
/// (each writes only its own variables; both may read the same bytes).
enum TwoAtOnce {
    static func run(_ first: () -> Void, _ second: () -> Void) {
        withoutActuallyEscaping(first) { first in
            withoutActuallyEscaping(second) { second in
                let work = Pair(first: first, second: second)
                DispatchQueue.concurrentPerform(iterations: 2) { part in
                    if part == 0 { work.first() } else { work.second() }
                }
            }
        }
    }

    /// The two closures, handed to Dispatch's threads: safe because `run` waits for both and callers
    /// give closures that do not share what they write.
    private struct Pair: @unchecked Sendable {
        let first: () -> Void
        let second: () -> Void
    }
}
