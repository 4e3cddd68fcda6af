import Foundation

/// Makes chosen store operations fail on demand (for tests of failure handling).
final class FaultInjector: @unchecked Sendable {
    private let lock = NSLock()
    private var failing: Set<String> = []

    init() {}

    /// Makes the next `operation` fail.
    func failNext(_ operation: String) {
        lock.withLock { _ = failing.insert(operation) }
    }

    /// Throws when `operation` was set to fail (once).
    func check(_ operation: String) throws {
        let fail = lock.withLock { failing.remove(operation) != nil }
        if fail { throw StoreError.unavailable("the database could not be written (simulated failure): try again") }
    }

    /// Throws what a full disk throws when `operation` was set to fail (once).
    func checkStorage(_ operation: String) throws {
        let fail = lock.withLock { failing.remove(operation) != nil }
        if fail { throw FileFolder.failure("write", "(simulated)", code: ENOSPC) }
    }
}
