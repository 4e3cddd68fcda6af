import Foundation
import Shared

/// How the HTTP server behaves: limits and the clock bound, all configurable from `serve`.
struct ServerSettings: Sendable {
    /// The largest request body accepted, in bytes.
    var maxBodyBytes = 32 * 1024 * 1024
    /// The most changes in one push.
    var maxBatch = 10_000
    /// The most changes in one pull or snapshot page.
    var maxPage = 10_000
    /// The most bytes of changes in one pull or snapshot page (estimated as sent); a single larger change travels alone.
    var maxPageBytes = PageCutter.defaultMaxBytes
    /// How long a connection may send nothing (or only part of a request head) before it is closed.
    var idleTimeout: Duration = .seconds(30)
    /// The most connections held open at once; more wait until one closes.
    var maxConnections = 512
    /// The page size when a client does not ask for one.
    var defaultPage = 2_000
    /// How far ahead of the server's clock a change may be stamped.
    var maxDriftMillis: UInt64 = 5 * 60 * 1000
    /// How repeated failed authentication from one address is slowed down.
    var authThrottle = AuthThrottle.Policy()
    /// Reverse proxies (IP addresses) whose X-Forwarded-For names the client, for auth throttling.
    var trustedProxies: Set<String> = []
    /// The TLS keys announced on every answer: the served certificate's first, then those of the
    /// certificates the server will switch to (`serve --next-tls-cert`). Empty without TLS.
    var serverKeys: [ServerKey] = []
    /// The wall clock, milliseconds since the epoch (injected in tests).
    var clock: @Sendable () -> UInt64 = currentMillis
}
