import NIOCore
import NIOHTTP1

/// One request on its way to the server, and the promise its answer completes.
struct HTTPExchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var answer: EventLoopPromise<HTTPAnswer>
}

/// A whole answer: its status, headers and body (read up to the client's limit).
struct HTTPAnswer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer
}

/// Why an exchange failed below HTTP. All but `answerTooLarge` mean the server could not be
/// reached (exit 3); `SyncClient.translate` says which is which.
enum TransportError: Error, Equatable, CustomStringConvertible {
    /// The connection closed before the answer was complete.
    case connectionClosed
    /// Nothing (or no more of the answer) arrived within the time allowed.
    case timedOut
    /// The answer is larger than the client reads, or announces that it is.
    case answerTooLarge
    /// The TLS handshake ended without a certificate from the server.
    case noCertificate
    /// The client was closed (its sync ended) before this request went out.
    case clientClosed

    var description: String {
        switch self {
        case .connectionClosed: "the connection was cut"
        case .timedOut: "timed out"
        case .answerTooLarge: "the answer is too large"
        case .noCertificate: "the server presented no certificate"
        case .clientClosed: "the client was closed"
        }
    }
}
