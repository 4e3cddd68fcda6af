import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Shared

/// Builds the HTTP application over a store. `serve` and the tests call the same builder.
func buildApplication(
    store: any SyncStore,
    services: [any Service] = [],
    settings: ServerSettings = ServerSettings(),
    host: String = "127.0.0.1",
    port: Int = 8080,
    tls: TLSConfiguration? = nil,
    logger: Logger = Logger(label: "casebook-server"),
    onServerRunning: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
) throws -> some ApplicationProtocol {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: LogRequestsMiddleware(.info, includeHeaders: .none))
    // `serve` sets the keys only when it serves TLS itself: they are those of its certificates.
    if !settings.serverKeys.isEmpty { router.add(middleware: ServerKeysMiddleware(keys: settings.serverKeys)) }
    router.add(middleware: ServerTimeMiddleware(clock: settings.clock))
    router.add(middleware: ErrorMiddleware(maxBodyBytes: settings.maxBodyBytes))
    let guardian = AuthGuard(store: store, throttle: AuthThrottle(policy: settings.authThrottle), trustedProxies: settings.trustedProxies)
    SyncController(store: store, settings: settings, guardian: guardian).addRoutes(to: router)
    DeviceController(store: store, settings: settings, guardian: guardian).addRoutes(to: router)
    KeyController(store: store, settings: settings, guardian: guardian).addRoutes(to: router)
    FileController(store: store, settings: settings, guardian: guardian).addRoutes(to: router)
    // After the routes: it sees only requests that matched none (a known path, another method: 405).
    router.add(middleware: AllowedMethodsMiddleware(routes: router.routes.map { ($0.path, $0.method) }))
    // A connection that sends nothing (not even a whole request head) for `idleTimeout` is closed;
    // one waiting for its answer is not.
    let http1 = HTTP1Channel.Configuration(idleTimeout: .nanoseconds(Int64(settings.idleTimeout / .nanoseconds(1))))
    return Application(
        router: router,
        server: try tls.map { try .tls(.http1(configuration: http1), tlsConfiguration: $0) } ?? .http1(configuration: http1),
        configuration: .init(address: .hostname(host, port: port), serverName: "casebook-server",
                             availableConnectionsDelegate: ConnectionCap(maximum: settings.maxConnections, logger: logger)),
        services: services,
        onServerRunning: { channel in
            await onServerRunning(host, channel.localAddress?.port ?? port)
        },
        logger: logger
    )
}
