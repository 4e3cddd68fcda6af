import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Shared

/// The HTTP/1.1 connection a command uses to talk to its server: opened when first needed and
/// again when the server has closed it, carrying requests in the order they were asked for. A
/// request is sent once the answers before it are in (a sync overlaps asking with applying), except
/// a pipelined one (file chunks), which is written as soon as the request before it is written: the
/// server answers them in order while the next ones travel.
///
/// Over https the server's certificate is verified as usual (the system's authorities and the
/// replica's own CA, the host name checked), and then, after the handshake and before a single
/// byte of a request is written, its key is checked against the replica's pins: a key they do
/// not hold closes the connection and fails with `ServerKeyMismatch`. Nothing is retried behind
/// the caller's back: once an exchange fails below HTTP, it and every later one fail alike.
final class ServerConnection: Sendable {
    /// Where to connect, and how.
    struct Target: Sendable {
        var host: String
        var port: Int
        /// The TLS context for https; nil for http.
        var tls: NIOSSLContext?
        /// The name sent in SNI and checked against the certificate; nil for an IP address,
        /// whose certificate is checked against the address itself.
        var serverName: String?
        var pins: ServerKeyPins
        var server: URL
    }

    /// What the server showed of its keys on this connection (https only).
    struct Keys: Sendable {
        /// The key the server presented, once a handshake passed.
        var presented: ServerKey?
        /// The keys the last answer listed in `Casebook-Server-Keys`.
        var announced: [ServerKey]?
    }

    private struct State {
        /// Completes when every request asked for so far is answered: a request starts after it.
        var answered: EventLoopFuture<Void>
        /// Completes when the last request asked for is written (answered, unless it was pipelined): a
        /// pipelined request starts after it.
        var written: EventLoopFuture<Void>
        var channel: (any Channel)?
        /// Set by the first failure below HTTP (or by `close`): every later request fails with it.
        var failure: (any Error)?
        var keys = Keys()
    }

    static let connectTimeout = TimeAmount.seconds(15)

    private let target: Target
    private let timeout: TimeAmount
    private let maxAnswerBytes: Int
    private let eventLoop: any EventLoop
    private let state: NIOLockedValueBox<State>

    init(target: Target, timeout: TimeAmount, maxAnswerBytes: Int) {
        self.target = target
        self.timeout = timeout
        self.maxAnswerBytes = maxAnswerBytes
        eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        state = NIOLockedValueBox(State(answered: eventLoop.makeSucceededVoidFuture(), written: eventLoop.makeSucceededVoidFuture()))
    }

    var keys: Keys { state.withLockedValue { $0.keys } }

    /// Sends a request once every request asked for before it is done, and returns its answer.
    /// A request cancelled while it waits is never sent.
    func exchange(_ head: HTTPRequestHead, body: ByteBuffer?) async throws -> HTTPAnswer {
        let cancelled = NIOLockedValueBox(false)
        let answer = send(head, body: body, pipelined: false, cancelled: cancelled)
        return try await withTaskCancellationHandler {
            try await answer.get()
        } onCancel: {
            cancelled.withLockedValue { $0 = true }
        }
    }

    /// Queues a request at once, in the order of the calls, and returns its answer to come. A
    /// pipelined request is written without waiting for the answers before it; any other waits
    /// for all of them. A request whose `cancelled` is set before its turn is never sent.
    func send(_ head: HTTPRequestHead, body: ByteBuffer?, pipelined: Bool,
              cancelled: NIOLockedValueBox<Bool> = NIOLockedValueBox(false)) -> EventLoopFuture<HTTPAnswer> {
        let answer = eventLoop.makePromise(of: HTTPAnswer.self)
        let written = eventLoop.makePromise(of: Void.self)
        let previous = state.withLockedValue { state in
            let previous = pipelined ? state.written : state.answered
            let done = answer.futureResult.map { _ in }.recover { _ in }
            state.answered = state.answered.and(done).map { _ in }
            state.written = pipelined ? written.futureResult : done
            return previous
        }
        // Outside the lock: a callback on a completed future may run at once, and `start` takes the lock.
        previous.whenComplete { _ in
            guard !cancelled.withLockedValue({ $0 }) else {
                written.succeed(())
                return answer.fail(CancellationError())
            }
            self.start(head, body: body, answer: answer, written: written)
        }
        return answer.futureResult
    }

    /// Closes the connection; requests still waiting fail without being sent.
    func close() async {
        let channel = state.withLockedValue { state -> (any Channel)? in
            if state.failure == nil { state.failure = TransportError.clientClosed }
            defer { state.channel = nil }
            return state.channel
        }
        try? await channel?.close()
    }

    /// On the event loop: sends the request over the open connection, or a new one. `answer`
    /// completes only after what the exchange teaches is kept (the keys it announced, or the
    /// failure that ends this connection), so its caller and the next request see it.
    private func start(_ head: HTTPRequestHead, body: ByteBuffer?, answer: EventLoopPromise<HTTPAnswer>, written: EventLoopPromise<Void>) {
        if let failure = state.withLockedValue({ $0.failure }) {
            written.succeed(())
            return answer.fail(failure)
        }
        let wire = eventLoop.makePromise(of: HTTPAnswer.self)
        let open = state.withLockedValue { $0.channel }.flatMap { $0.isActive ? $0 : nil }
        let ready = open.map { eventLoop.makeSucceededFuture($0) } ?? connect()
        ready.flatMap { channel in
            channel.writeAndFlush(HTTPExchange(head: head, body: body, answer: wire))
        }.whenComplete { result in
            if case .failure(let error) = result { wire.fail(error) }
            written.succeed(())
        }
        wire.futureResult.whenComplete { result in
            switch result {
            case .success(let received): self.learn(from: received)
            case .failure(let error):
                let channel = self.state.withLockedValue { state -> (any Channel)? in
                    if state.failure == nil { state.failure = error }
                    defer { state.channel = nil }
                    return state.channel
                }
                channel?.close(promise: nil)
            }
            answer.completeWith(result)
        }
    }

    /// The keys an answer announced, kept when it came over TLS (so over a checked key).
    private func learn(from answer: HTTPAnswer) {
        guard target.tls != nil, let header = answer.headers.first(name: Wire.serverKeysHeader) else { return }
        let announced = ServerKey.list(header)
        state.withLockedValue { $0.keys.announced = announced }
    }

    /// Opens a connection; over TLS, returns it only once the handshake has passed and the
    /// server's key is one the replica accepts.
    private func connect() -> EventLoopFuture<any Channel> {
        let presented = eventLoop.makePromise(of: ServerKey.self)
        let (tls, serverName, maxBytes, timeout) = (target.tls, target.serverName, maxAnswerBytes, self.timeout)
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(Self.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        try pipeline.addHandler(HandshakeWatcher(presented: presented))
                    }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(AnswerHandler(maxBytes: maxBytes, timeout: timeout))
                }
            }
            .connect(host: target.host, port: target.port)
        connected.whenFailure { presented.fail($0) }
        return connected.flatMap { channel in
            self.checked(channel, presented: presented)
        }
    }

    /// The channel once its server's key passed the pins (at once for plain http).
    private func checked(_ channel: any Channel, presented: EventLoopPromise<ServerKey>) -> EventLoopFuture<any Channel> {
        guard target.tls != nil else {
            presented.fail(TransportError.connectionClosed)  // no handshake to wait for
            state.withLockedValue { $0.channel = channel }
            return eventLoop.makeSucceededFuture(channel)
        }
        // A server that accepts the connection and never finishes the handshake.
        let deadline = eventLoop.scheduleTask(in: Self.connectTimeout) { presented.fail(TransportError.timedOut) }
        let (pins, server) = (target.pins, target.server)
        return presented.futureResult.flatMapThrowing { key -> any Channel in
            deadline.cancel()
            guard pins.accepts(key) else { throw ServerKeyMismatch(server: server, presented: key, pinned: pins.keys) }
            self.state.withLockedValue { state in
                state.keys.presented = key
                state.channel = channel
            }
            return channel
        }.flatMapErrorThrowing { error in
            deadline.cancel()
            channel.close(promise: nil)
            // A pinned replica meeting another key is an interception whether or not a trusted authority signed it.
            if let unverified = error as? UnverifiedServerKey {
                guard !pins.keys.isEmpty, !pins.accepts(unverified.key) else { throw unverified.error }
                throw ServerKeyMismatch(server: server, presented: unverified.key, pinned: pins.keys)
            }
            throw error
        }
    }
}
