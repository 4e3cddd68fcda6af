import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Shared

/// What a sync needs from the server. `SyncClient` speaks HTTP; tests substitute their own.
protocol SyncTransport: Sendable {
    func push(_ changes: [Change]) async throws -> Wire.PushResponse
    /// `skip`: this replica's own changes up to a sequence number, which it already holds.
    func pull(after: Int64, limit: Int, skip: Wire.OwnChanges?) async throws -> Wire.PullResponse
    func snapshot(after: HLC?, limit: Int) async throws -> Wire.SnapshotResponse
}

/// How a replica reaches its server.
struct ServerAddress: Sendable {
    var url: URL
    /// A PEM file of certificate authorities to trust besides the system's (for a self-signed server).
    var caCertificate: String?

    /// Whether the host is this machine (127.0.0.0/8, ::1 or localhost), where plain http is harmless.
    static func isLoopback(_ url: URL) -> Bool {
        guard let host = url.host?.lowercased() else { return false }
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".")
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Plain http is refused to anything but a loopback address unless the user said `--insecure`.
    static func check(_ url: URL, insecure: Bool) throws {
        guard url.scheme?.lowercased() == "http", !isLoopback(url) else { return }
        guard insecure else {
            throw ClientError("refusing plain http:// to \(url.host ?? "?"): anyone on the network could read your records and token. Use https://, or --insecure if you accept that risk")
        }
    }
}

/// The HTTP side of the protocol over AsyncHTTPClient: one method per endpoint, errors as
/// `ClientError`s. Certificates are verified against the system's authorities and, when given,
/// the replica's own CA file. Call `close()` when done (or use `SyncClient.with`).
final class SyncClient: SyncTransport {
    let address: ServerAddress
    let project: String
    let token: String
    private let http: HTTPClient
    private let timeout: TimeAmount

    init(address: ServerAddress, project: String, token: String, timeoutSeconds: Int64 = 120) throws {
        self.address = address
        self.project = project
        self.token = token
        timeout = .seconds(timeoutSeconds)
        // TLS only for https: building a TLS context loads the system's CA bundle, which costs
        // milliseconds that a plain-http sync on loopback need not pay.
        var tls: TLSConfiguration?
        if address.url.scheme?.lowercased() == "https" {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let ca = address.caCertificate {
                do {
                    configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(ca))]
                } catch {
                    throw ClientError("cannot read the CA certificate '\(ca)': give a PEM file")
                }
            }
            tls = configuration
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(15), read: .seconds(timeoutSeconds)))
        configuration.httpVersion = .http1Only
        // Fail at once when the server cannot be reached: the user is told (exit 3) instead of
        // waiting out the connect timeout while the client retries in the background.
        configuration.connectionPool.retryConnectionEstablishment = false
        // One connection: overlapping requests (the next push while one is acknowledged, the next
        // pull page while one is applied) still reach the server one after the other, in order.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs `body` with a client and always shuts it down.
    static func with<T: Sendable>(address: ServerAddress, project: String, token: String, timeoutSeconds: Int64 = 120,
                                  _ body: (SyncClient) async throws -> T) async throws -> T {
        let client = try SyncClient(address: address, project: project, token: token, timeoutSeconds: timeoutSeconds)
        do {
            let result = try await body(client)
            try? await client.close()
            return result
        } catch {
            try? await client.close()
            throw error
        }
    }

    func close() async throws { try await http.shutdown() }

    var server: URL { address.url }

    func schema() async throws -> Wire.SchemaResponse {
        try await send(.GET, "schema") { try JSONDecoder().decode(Wire.SchemaResponse.self, from: $0) }
    }

    func push(_ changes: [Change]) async throws -> Wire.PushResponse {
        try await send(.POST, "push", body: WireCodec.encode(Wire.PushRequest(changes: changes))) {
            try WireCodec.decodePushResponse($0)
        }
    }

    func pull(after: Int64, limit: Int, skip: Wire.OwnChanges?) async throws -> Wire.PullResponse {
        let own = skip.map { "&" + $0.query } ?? ""
        return try await send(.GET, "pull", query: "after=\(after)&limit=\(limit)\(own)", decode: WireCodec.decodePullResponse)
    }

    func snapshot(after: HLC?, limit: Int) async throws -> Wire.SnapshotResponse {
        try await send(.GET, "snapshot", query: "after=\(after?.text ?? "")&limit=\(limit)", decode: WireCodec.decodeSnapshotResponse)
    }

    private func send<T>(_ method: HTTPMethod, _ endpoint: String, query: String? = nil, body: Data? = nil,
                         decode: (Data) throws -> T) async throws -> T {
        let projectPath = project.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? project
        var url = server.absoluteString
        if url.hasSuffix("/") { url.removeLast() }
        url += "/v1/projects/\(projectPath)/\(endpoint)" + (query.map { "?" + $0 } ?? "")
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "casebook")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let status: Int
        let data: Data
        do {
            let response = try await http.execute(request, timeout: timeout)
            status = Int(response.status.code)
            data = Data((try await response.body.collect(upTo: Self.maxAnswerBytes)).readableBytesView)
        } catch let error as ClientError {
            throw error
        } catch {
            throw Self.translate(error, server: server)
        }
        return try Self.interpret(status: status, data: data, server: server, decode: decode)
    }
}
