import Foundation
import Hummingbird
import Logging
import NIOCore
import Shared

/// Builds the HTTP application over a store. `serve` and the tests call the same builder.
func buildApplication(
    store: any SyncStore,
    settings: ServerSettings = ServerSettings(),
    host: String = "127.0.0.1",
    port: Int = 8080,
    logger: Logger = Logger(label: "casebook-server"),
    onServerRunning: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
) -> some ApplicationProtocol {
    let router = Router()
    router.add(middleware: LogRequestsMiddleware(.info, includeHeaders: .none))
    router.add(middleware: ServerTimeMiddleware(clock: settings.clock))
    router.add(middleware: ErrorMiddleware(maxBodyBytes: settings.maxBodyBytes))
    SyncController(store: store, settings: settings, guardian: AuthGuard(store: store)).addRoutes(to: router)
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "casebook-server"),
        onServerRunning: { channel in
            await onServerRunning(host, channel.localAddress?.port ?? port)
        },
        logger: logger
    )
}
