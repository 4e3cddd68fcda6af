import Foundation
import NIOCore
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL database is and how to reach it, parsed from a `postgres://` URL.
///
/// The URL follows libpq's form: `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE`.
/// `sslmode` is `disable`, `prefer` (the default, as in libpq), `require` (encrypted, certificate
/// not checked, as in libpq) or `verify-full` (encrypted and the certificate checked against the
/// system's roots, or `sslrootcert=PATH`).
struct PostgresLocation: Sendable, Equatable {
    enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String
    var tlsMode: TLSMode = .prefer
    var rootCertificate: String?

    /// Parses a URL; the error says what is wrong with it and never repeats the password.
    init(url text: String) throws {
        let example = "postgres://USER:PASSWORD@HOST:5432/DATABASE"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw StoreError.unavailable("the database URL is not a URL: write it as \(example)")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw StoreError.unavailable("the database URL must start with postgres:// (it starts with \(scheme)://): write it as \(example)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw StoreError.unavailable("the database URL names no host: write it as \(example)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError.unavailable("the database URL names no user: write it as \(example)")
        }
        self.host = host
        port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw StoreError.unavailable("the database URL's port \(port) is not between 1 and 65535") }
        // URLComponents has already decoded percent-escapes in these: decoding again would turn a
        // password such as "a%41b" (written a%2541b) into "aAb".
        username = user
        password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? username : path
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw StoreError.unavailable("sslmode '\(item.value ?? "")' is not supported: use disable, prefer, require or verify-full")
                }
                tlsMode = mode
            case "sslrootcert":
                rootCertificate = item.value
            default:
                throw StoreError.unavailable("the database URL option '\(item.name)' is not supported: use sslmode and sslrootcert only")
            }
        }
    }

    /// How the URL is shown in messages and logs: everything but the password.
    var redacted: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    /// TLS settings for NIOSSL, nil when TLS is off.
    func tlsConfiguration() throws -> TLSConfiguration? {
        guard tlsMode != .disable else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if tlsMode == .verifyFull {
            if let rootCertificate {
                do {
                    configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificate))
                } catch {
                    throw StoreError.unavailable("cannot read sslrootcert '\(rootCertificate)': give a PEM certificate file")
                }
            }
        } else {
            configuration.certificateVerification = .none
        }
        return configuration
    }

    /// The pool's configuration.
    ///
    /// `statementTimeout` becomes the session's `statement_timeout` and `lock_timeout`, and (doubled)
    /// its `idle_in_transaction_session_timeout`: the database stops what the server gave up on.
    func clientConfiguration(poolSize: Int, connectTimeout: Duration, statementTimeout: Duration) throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch (tlsMode, try tlsConfiguration()) {
        case (.disable, _), (_, nil): .disable
        case (.prefer, let configuration?): .prefer(configuration)
        case (_, let configuration?): .require(configuration)
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = poolSize
        configuration.options.connectTimeout = connectTimeout
        let milliseconds = String(Int64(statementTimeout.seconds * 1000))
        configuration.options.additionalStartupParameters = [
            ("application_name", "casebook-server"),
            ("statement_timeout", milliseconds),
            ("lock_timeout", milliseconds),
            ("idle_in_transaction_session_timeout", String(Int64(statementTimeout.seconds * 2000))),
        ]
        return configuration
    }

    /// The configuration of one connection (used to check the database and migrate it at start-up).
    func connectionConfiguration(connectTimeout: Duration) throws -> PostgresConnection.Configuration {
        var tls = PostgresConnection.Configuration.TLS.disable
        if let configuration = try tlsConfiguration() {
            let context = try NIOSSLContext(configuration: configuration)
            tls = tlsMode == .prefer ? .prefer(context) : .require(context)
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = TimeAmount.milliseconds(Int64(connectTimeout.seconds * 1000))
        configuration.options.additionalStartupParameters = [("application_name", "casebook-server")]
        return configuration
    }

    /// A message for a failure to reach or use the database, saying what to do.
    func explain(_ error: any Error) -> String {
        let target = "PostgreSQL at \(host):\(port)"
        if let error = error as? StoreError { return error.description }
        guard let error = error as? PSQLError else {
            return "\(target) failed: \(error)"
        }
        if let info = error.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = info[.message] ?? "no message"
            switch state {
            case "28P01":
                return "\(target) refused the password of user '\(username)': check the password in the database URL"
            case "28000":
                return "\(target) refused user '\(username)' (\(message)): check the user in the database URL and pg_hba.conf"
            case "3D000":
                return "database '\(database)' does not exist on \(target): create it (createdb \(database)) or fix the database URL"
            case "57P03":
                return "\(target) is starting up or shutting down: try again in a moment"
            case "53300":
                return "\(target) has too many connections: lower --database-pool-size or raise max_connections"
            default:
                return "\(target) answered with an error (\(state)): \(message)"
            }
        }
        switch error.code {
        case .connectionError:
            let detail = error.underlying.map { "\($0)" } ?? ""
            let reason = detail.contains("refused") ? "connection refused"
                : detail.lowercased().contains("timeout") || detail.lowercased().contains("timedout") || detail.isEmpty ? "no answer in time" : detail
            return "cannot connect to \(target) (\(reason)): is PostgreSQL running there, and is the database URL right?"
        case .sslUnsupported:
            return "\(target) does not support TLS: use sslmode=prefer or sslmode=disable in the database URL"
        case .authMechanismRequiresPassword:
            return "\(target) asks for a password: put it in the database URL (postgres://USER:PASSWORD@...)"
        case .serverClosedConnection, .uncleanShutdown:
            return "\(target) closed the connection before answering: check that PostgreSQL runs there and the database URL is right"
        default:
            return "\(target) failed (\(error.code))"
        }
    }
}

/// Runs `body`, giving up with `StoreError.unavailable(message)` after `limit`.
///
/// PostgresNIO's pool waits for a connection for as long as it takes (it keeps retrying a
/// database that is down), and a connection attempt can wait on a peer that never answers; every
/// PostgreSQL operation goes through this so that nothing hangs. The work is cancelled when the
/// time is up, but the caller does not wait for it to notice.
func withDeadline<T: Sendable>(_ limit: Duration, message: String, _ body: @Sendable @escaping () async throws -> T) async throws -> T {
    let race = Race<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation, limit: limit, timeout: StoreError.unavailable(message), body)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The first of a piece of work and its timer to finish resumes the waiter; the other is cancelled.
private final class Race<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var tasks: [Task<Void, Never>] = []
    private var finished: Result<T, any Error>?

    func start(_ continuation: CheckedContinuation<T, any Error>, limit: Duration, timeout: StoreError,
               _ body: @Sendable @escaping () async throws -> T) {
        let early: Result<T, any Error>? = lock.withLock {
            if let finished { return finished }
            self.continuation = continuation
            return nil
        }
        if let early { return continuation.resume(with: early) }
        let work = Task {
            // Given up on before it started (the caller was cancelled meanwhile): do nothing.
            guard !self.isFinished else { return }
            do { self.finish(.success(try await body())) } catch { self.finish(.failure(error)) }
        }
        let timer = Task {
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            self.finish(.failure(timeout))
        }
        let done = lock.withLock {
            tasks = [work, timer]
            return continuation == nil
        }
        if done { work.cancel(); timer.cancel() }
    }

    var isFinished: Bool { lock.withLock { finished != nil } }

    func finish(_ result: Result<T, any Error>) {
        let (waiter, others): (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) = lock.withLock {
            guard finished == nil else { return (nil, []) }
            finished = result
            defer { continuation = nil }
            return (continuation, tasks)
        }
        for task in others { task.cancel() }
        waiter?.resume(with: result)
    }
}
