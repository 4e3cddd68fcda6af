import NIOCore
import NIOHTTP1

/// The end of a connection's pipeline: writes one `HTTPExchange`'s request and completes its
/// promise with the answer. An answer is read up to `maxBytes` (one announcing more is refused
/// from its head); the head must arrive within `timeout` of the request, and the body may not
/// fall silent longer than that. Whatever ends the connection early fails the exchange.
final class AnswerHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPExchange
    typealias OutboundOut = HTTPClientRequestPart

    private let maxBytes: Int
    private let timeout: TimeAmount
    private var pending: EventLoopPromise<HTTPAnswer>?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    /// When the request was written or a part of its answer last arrived.
    private var lastActivity = NIODeadline.now()
    private var timer: Scheduled<Void>?

    init(maxBytes: Int, timeout: TimeAmount) {
        self.maxBytes = maxBytes
        self.timeout = timeout
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        // The connection carries one request at a time (`ServerConnection` queues the rest).
        guard pending == nil else {
            exchange.answer.fail(TransportError.connectionClosed)
            promise?.fail(TransportError.connectionClosed)
            return
        }
        pending = exchange.answer
        head = nil
        body.clear()
        lastActivity = .now()
        schedule(context, at: lastActivity + timeout)
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let bytes = exchange.body { context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard pending != nil else {
            // Bytes nobody asked for: this is not a server to keep talking to.
            context.close(promise: nil)
            return
        }
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head(let answerHead):
            if let length = answerHead.headers.first(name: "content-length").flatMap(Int.init) {
                guard length <= maxBytes else { return fail(context, TransportError.answerTooLarge) }
                // Room for a page at once (pages are bounded near 8 MiB); a longer answer grows as it comes.
                body.reserveCapacity(min(max(length, 0), 16 << 20))
            }
            head = answerHead
        case .body(var part):
            guard body.readableBytes + part.readableBytes <= maxBytes else { return fail(context, TransportError.answerTooLarge) }
            body.writeBuffer(&part)
        case .end:
            finish(context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if pending != nil { fail(context, error) } else { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if pending != nil { fail(context, TransportError.connectionClosed) }
        context.fireChannelInactive()
    }

    private func finish(_ context: ChannelHandlerContext) {
        guard let promise = pending, let head else { return fail(context, TransportError.connectionClosed) }
        timer?.cancel()
        pending = nil
        // Closed before the promise completes, so that the next request finds the connection gone
        // and opens another instead of writing to one the server is closing.
        if !head.isKeepAlive { context.close(promise: nil) }
        promise.succeed(HTTPAnswer(status: Int(head.status.code), headers: head.headers, body: body))
        body = ByteBuffer()
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        timer?.cancel()
        let promise = pending
        pending = nil
        context.close(promise: nil)
        promise?.fail(error)
    }

    /// One timer per exchange, moved on lazily: it checks the last activity when it fires, so
    /// that each part of a large answer costs no rescheduling.
    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            guard handler.pending != nil else { return }
            let due = handler.lastActivity + handler.timeout
            if due > .now() { handler.schedule(context, at: due) } else { handler.fail(context, TransportError.timedOut) }
        }
    }
}
