import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Shared

extension CasebookServer {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the sync server.",
            discussion: """
                Prints 'listening on http://HOST:PORT' once it accepts connections. SIGINT or SIGTERM stops it gracefully: it stops \
                accepting, finishes the requests in flight and exits 0; what still runs after --shutdown-grace seconds is cut short \
                (exit 1, with a message).
                """)

        @OptionGroup var store: StoreOptions

        @OptionGroup var listen: ListenOptions

        @Option(name: .customLong("max-body-bytes"), help: "The largest request body accepted, in bytes.")
        var maxBodyBytes = ServerSettings().maxBodyBytes

        @Option(name: .customLong("max-batch"), help: "The most changes accepted in one push.")
        var maxBatch = ServerSettings().maxBatch

        @Option(name: .customLong("max-page"), help: "The most changes returned in one pull page.")
        var maxPage = ServerSettings().maxPage

        @Option(name: .customLong("max-page-bytes"),
                help: "The most bytes of changes in one pull or snapshot page (a single larger change is sent alone).")
        var maxPageBytes = ServerSettings().maxPageBytes

        @Option(name: .customLong("idle-timeout"),
                help: "Seconds a connection may send nothing (or only part of a request's headers) before it is closed.")
        var idleTimeout = Int(ServerSettings().idleTimeout.components.seconds)

        @Option(name: .customLong("max-connections"),
                help: "The most connections held open at once; more wait until one closes (keep it below the open-file limit, ulimit -n).")
        var maxConnections = ServerSettings().maxConnections

        @Option(name: .customLong("max-clock-drift"), help: "How many seconds ahead of the server's clock a change may be stamped.")
        var maxClockDrift = Int(ServerSettings().maxDriftMillis / 1000)

        @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
        var logLevel = "info"

        @Option(name: .customLong("trusted-proxy"),
                help: ArgumentHelp("The IP address of a reverse proxy in front of this server (repeatable): its X-Forwarded-For header names the client, so failed logins are throttled per client, not per proxy.", valueName: "IP"))
        var trustedProxies: [String] = []

        @Option(name: .customLong("shutdown-grace"),
                help: ArgumentHelp("Seconds a stop (SIGINT, SIGTERM) waits for requests in flight before it cuts them short and exits 1.", valueName: "SECONDS"))
        var shutdownGrace = 20

        func validate() throws {
            guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
            guard maxBatch >= 1, maxPage >= 1 else { throw ValidationError("--max-batch and --max-page must be at least 1") }
            guard maxPageBytes >= 64 * 1024 else { throw ValidationError("--max-page-bytes must be at least 65536") }
            guard idleTimeout >= 1 else { throw ValidationError("--idle-timeout must be at least 1 second") }
            guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
            guard maxClockDrift >= 1 else { throw ValidationError("--max-clock-drift must be at least 1 second") }
            guard shutdownGrace >= 1 else { throw ValidationError("--shutdown-grace must be at least 1 second") }
            guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
            for proxy in trustedProxies where SocketAddressCheck.isIPAddress(proxy) == false {
                throw ValidationError("--trusted-proxy takes an IP address such as 127.0.0.1, not '\(proxy)'")
            }
        }

        func run() async throws {
            let level = Logger.Level(rawValue: logLevel) ?? .info
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            let (syncStore, services) = try await store.openStore()
            var settings = ServerSettings()
            settings.maxBodyBytes = maxBodyBytes
            settings.maxBatch = maxBatch
            settings.maxPage = maxPage
            settings.maxPageBytes = maxPageBytes
            settings.idleTimeout = .seconds(idleTimeout)
            settings.maxConnections = maxConnections
            settings.maxDriftMillis = UInt64(maxClockDrift) * 1000
            settings.trustedProxies = Set(trustedProxies)
            let tls = try listen.loadTLS()
            settings.serverKeys = tls?.keys ?? []
            let scheme = tls == nil ? "http" : "https"
            let host = listen.listenHost
            let app = try buildApplication(
                store: syncStore, services: services, settings: settings, host: host, port: try listen.listenPort(), tls: tls?.configuration,
                onServerRunning: { host, port in
                    // Written straight to the file descriptor so it is never held in a buffer.
                    FileHandle.standardOutput.write(Data("listening on \(scheme)://\(host):\(port)\n".utf8))
                })
            let logger = Logger(label: "casebook-server")
            if let postgres = syncStore as? PostgresSyncStore {
                logger.notice("store: PostgreSQL at \(postgres.location.redacted), pool of \(postgres.settings.poolSize) connections")
            } else {
                logger.notice("store: embedded SQLite in \(store.dataFolder.path)")
            }
            if tls == nil && !listen.isLoopback {
                logger.warning("serving plain http on \(host): put it behind a TLS proxy, or use --tls-cert and --tls-key")
            }
            if let keys = tls?.keys, let current = keys.first {
                logger.notice("TLS key \(current): replicas pin it at init (hand it out with the server's address)")
                for next in keys.dropFirst() { logger.notice("announcing the next TLS key \(next) (--next-tls-cert)") }
            }
            // The application's own group runs the store's services and the HTTP server; this one adds
            // the signals and the bound on how long a stop may take.
            let group = ServiceGroup(configuration: .init(
                services: [
                    .init(service: app),
                    .init(service: ShutdownDeadline(seconds: shutdownGrace, logger: logger), successTerminationBehavior: .ignore),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do {
                try await group.run()
            } catch {
                throw CommandError("the server stopped: \(error)")
            }
        }
    }
}

/// Whether text is an IPv4 or IPv6 address.
enum SocketAddressCheck {
    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}
