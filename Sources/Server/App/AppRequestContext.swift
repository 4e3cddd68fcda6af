import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the peer's address (for auth throttling).
struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The key failures are counted under: the peer's IP address, without its port.
    var peerKey: String { remoteAddress?.ipAddress ?? "unknown" }
}
