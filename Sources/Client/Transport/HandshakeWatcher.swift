import NIOCore
import NIOSSL
import NIOTLS
import Shared

/// Sits behind the TLS handler and completes `presented` with the key of the server's
/// certificate once the handshake (with its normal verification: trusted chain, host name)
/// has completed, or fails it with whatever ended the handshake. Nothing is written on the
/// connection before that: the request waits for this promise and the pin check after it.
final class HandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let presented: EventLoopPromise<ServerKey>

    init(presented: EventLoopPromise<ServerKey>) {
        self.presented = presented
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            do {
                let tls = try context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
                guard let certificate = tls.peerCertificate else { throw TransportError.noCertificate }
                presented.succeed(try ServerKey(certificate: certificate))
            } catch {
                presented.fail(error)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A handshake refused by the normal verification (an untrusted or expired certificate, another
        // host name) still received the server's certificate: its key decides whether this is an
        // interception of a pinned replica (exit 5) or a certificate problem (exit 1).
        if let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self),
           let certificate = tls.peerCertificate, let key = try? ServerKey(certificate: certificate) {
            presented.fail(UnverifiedServerKey(key: key, error: error))
        } else {
            presented.fail(error)
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        presented.fail(TransportError.connectionClosed)
        context.fireChannelInactive()
    }
}

/// A handshake that failed the normal verification, with the key the server presented.
struct UnverifiedServerKey: Error {
    let key: ServerKey
    let error: any Error
}
