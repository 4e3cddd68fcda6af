import Dispatch

/// Runs two pieces of CPU work at once and returns when both are done: hashing a chunk on one core
/// while it is sealed and written on the other; or getting the next records of an import ready while
/// the database stores the ones before. The caller makes sure the two touch disjoint state (each writes
/// only its own variables; both may read the same values).
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

    /// Runs `aside` on another thread and `here` on the calling one (which may be a database's, which
    /// must not be used from any other), and returns when both are done, with `here`'s error if any.
    static func run(aside: () -> Void, here: () throws -> Void) throws {
        try withoutActuallyEscaping(aside) { aside in
            let work = Pair(first: aside, second: {})
            let done = DispatchGroup()
            DispatchQueue.global().async(group: done) { work.first() }
            // `aside` writes what the caller reads next: wait for it whatever `here` does.
            defer { done.wait() }
            try here()
        }
    }

    /// The closures, handed to Dispatch's threads: safe because `run` waits for both and callers
    /// give closures that do not share what they write.
    private struct Pair: @unchecked Sendable {
        let first: () -> Void
        let second: () -> Void
    }
}
