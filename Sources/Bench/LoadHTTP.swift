import NIOCore
import NIOHTTP1
import NIOPosix

/// The load generator's HTTP/1.1: one connection per sync, as `casebook sync` opens one, carrying
/// its requests one after another, every answer read whole. Thousands of these run as tasks of
/// one process over SwiftNIO's event loops, so that the replicas it plays cost the machine what
/// their requests cost, not a process each.
enum LoadHTTP {
    /// A whole answer.
    struct Answer {
        var status: Int
        var body: [UInt8]
    }

    /// The requests of one connection, in order.
    final class Connection {
        private var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
        private let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
        private let host: String
        private let token: String

        fileprivate init(inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>, outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>,
                         host: String, token: String) {
            self.inbound = inbound.makeAsyncIterator()
            self.outbound = outbound
            self.host = host
            self.token = token
        }

        /// Sends a request and reads its whole answer.
        func exchange(_ method: HTTPMethod, _ uri: String, body: [UInt8]? = nil) async throws -> Answer {
            var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
            head.headers.add(name: "Host", value: host)
            head.headers.add(name: "Authorization", value: "Bearer \(token)")
            head.headers.add(name: "User-Agent", value: "casebook-bench")
            if let body {
                head.headers.add(name: "Content-Type", value: "application/json")
                head.headers.add(name: "Content-Length", value: String(body.count))
            }
            try await outbound.write(.head(head))
            if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))
            var status = 0
            var bytes: [UInt8] = []
            while let part = try await inbound.next() {
                switch part {
                case .head(let answer): status = Int(answer.status.code)
                case .body(var buffer): bytes.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
                case .end: return Answer(status: status, body: bytes)
                }
            }
            throw BenchError("the server closed the connection before answering \(method) \(uri)")
        }
    }

    /// Opens a connection to `host:port`, runs `body` over it and closes it.
    static func withConnection<T: Sendable>(host: String, port: Int, token: String,
                                            _ body: (Connection) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(Connection(inbound: inbound, outbound: outbound, host: "\(host):\(port)", token: token))
        }
    }
}
