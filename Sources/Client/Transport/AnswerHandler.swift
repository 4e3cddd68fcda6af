import NIOCore
import NIOHTTP1

/// The end of a connection's pipeline: writes each `HTTPExchange`'s request and completes its
/// promise with its answer, answers in the order of the requests (several may be on the wire at
/// once, see `ServerConnection`). An answer is read up to `maxBytes` (one announcing more is
/// refused from its head); nothing may fall silent longer than `timeout` while an answer is
/// awaited. Whatever ends the connection early fails every exchange still waiting.
final class AnswerHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPExchange
    typealias OutboundOut = HTTPClientRequestPart

    private let maxBytes: Int
    private let timeout: TimeAmount
    /// The exchanges written and not answered yet, oldest first: the answer being read is the first's.
    private var pending = CircularBuffer<EventLoopPromise<HTTPAnswer>>()
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
        pending.append(exchange.answer)
        lastActivity = .now()
        if pending.count == 1 {
            head = nil
            body.clear()
            schedule(context, at: lastActivity + timeout)
        }
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let bytes = exchange.body { context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !pending.isEmpty else {
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
        if !pending.isEmpty { fail(context, error) } else { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !pending.isEmpty { fail(context, TransportError.connectionClosed) }
        context.fireChannelInactive()
    }

    private func finish(_ context: ChannelHandlerContext) {
        guard let head else { return fail(context, TransportError.connectionClosed) }
        let promise = pending.removeFirst()
        let answer = HTTPAnswer(status: Int(head.status.code), headers: head.headers, body: body)
        self.head = nil
        body = ByteBuffer()
        if pending.isEmpty {
            timer?.cancel()
        } else {
            lastActivity = .now()
        }
        // Closed before the promise completes, so that the next request finds the connection gone
        // and opens another instead of writing to one the server is closing; requests already
        // written after this one are not answered.
        if !head.isKeepAlive { fail(context, TransportError.connectionClosed) }
        promise.succeed(answer)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        timer?.cancel()
        let promises = pending
        pending.removeAll()
        context.close(promise: nil)
        for promise in promises { promise.fail(error) }
    }

    /// One timer per exchange, moved on lazily: it checks the last activity when it fires, so
    /// that each part of a large answer costs no rescheduling.
    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            guard !handler.pending.isEmpty else { return }
            let due = handler.lastActivity + handler.timeout
            if due > .now() { handler.schedule(context, at: due) } else { handler.fail(context, TransportError.timedOut) }
        }
    }
}
