import Foundation
#if canImport(Testing)
import Testing
#endif

/// Threads of their own for tests that wait synchronously: for a program they started to exit
/// (`Process.waitUntilExit`), for a server's first line, for a file to appear.
///
/// Swift Testing runs every test case as a task on Swift's cooperative pool, which has one thread
/// per core: two on the machines this suite runs on. A synchronous wait holds its thread for as long
/// as the program it started runs, so two end-to-end tests waiting for their programs left every
/// other test queued behind them, and the machine's cores half idle while both programs waited on
/// each other's I/O or on a server's reply (measured: see docs/reliability.md, "The test suite on
/// two cores"). A test whose suite carries `.processThreads` runs on this executor's threads instead
/// (SE-0417's task executor preference), so what it waits for no longer holds the pool.
public final class ProcessThreadExecutor: TaskExecutor, @unchecked Sendable {
    /// How many tests wait for programs at once. The programs are what uses the cores: more than a
    /// few per core only lengthens each one's run and brings the tests' own deadlines closer.
    public static let shared = ProcessThreadExecutor(
        threads: ProcessInfo.processInfo.environment["CASEBOOK_TEST_PROCESS_THREADS"].flatMap { Int($0) }
            ?? max(4, 3 * ProcessInfo.processInfo.activeProcessorCount))

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var next = 0

    init(threads: Int) {
        for index in 0..<max(1, threads) {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "casebook-test-process-\(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while next == jobs.count { condition.wait() }
            let job = jobs[next]
            next += 1
            if next > 1024, next * 2 > jobs.count {  // drop what has run, now and then, not on every job
                jobs.removeFirst(next)
                next = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

#if canImport(Testing)
/// Runs every test of a suite on `ProcessThreadExecutor`'s threads: for suites whose tests start
/// programs and wait for them.
public struct ProcessThreadsTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(ProcessThreadExecutor.shared) { try await function() }
    }
}

extension Trait where Self == ProcessThreadsTrait {
    /// The suite's tests wait for programs they start: they run on threads of their own, not on
    /// Swift's cooperative pool (see `ProcessThreadExecutor`).
    public static var processThreads: Self { Self() }
}
#endif
