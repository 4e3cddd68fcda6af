import Foundation
import Logging
import ServiceLifecycle

/// Bounds a graceful stop. Once SIGTERM or SIGINT has asked the server to stop, whatever still runs
/// after `seconds` (a request whose client stopped sending its body halfway, a database pool that does
/// not finish closing its connections) is cut short: the process says so and exits with status 1.
///
/// Nothing is half-written by that: each store writes a request in one transaction, so a request
/// cut short was never answered and its client sends it again. The service is the last of its
/// group, so it is the first told to stop; it then only arms a timer on a thread of its own (the
/// stop may be stuck because the task pool is).
struct ShutdownDeadline: Service {
    let seconds: Int
    let logger: Logger

    func run() async throws {
        // Returns when the stop is asked for; throws when the group is cancelled instead.
        do { try await gracefulShutdown() } catch { return }
        let seconds = self.seconds, logger = self.logger
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: TimeInterval(seconds))
            logger.error("""
                the server did not stop within \(seconds) s of the signal (a request still in flight, or the \
                database's connections not closing): exiting now; a request cut short was not answered, and its client sends it again
                """)
            exit(1)
        }
    }
}
