import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Shared

/// What a sync needs from the server. `SyncClient` speaks HTTP; tests substitute their own.
protocol SyncTransport: Sendable {
    func push(_ changes: [Change]) async throws -> Wire.PushResponse
    /// A push with the signed batches that hold its changes.
    func push(_ changes: [Change], batches: [SignedBatch]) async throws -> Wire.PushResponse
    /// The project's devices; nil only from a transport that carries no signatures (the in-process
    /// servers of tests).
    func devices() async throws -> [Wire.Device]?
    /// The project's devices with the server's agreement key for bundles; nil as for `devices`.
    func deviceList() async throws -> Wire.DeviceList?
    /// Registers this replica's key; false when the transport carries no signatures.
    func registerDevice(_ registration: Wire.DeviceRegistration) async throws -> Bool
    /// `skip`: this replica's own changes up to a sequence number, which it already holds.
    func pull(after: Int64, limit: Int, skip: Wire.OwnChanges?) async throws -> Wire.PullResponse
    func snapshot(after: HLC?, limit: Int) async throws -> Wire.SnapshotResponse
    /// The stored versions the automatic merges of `fields` read (`POST /history`).
    func history(_ fields: [Wire.HistoryRequest.Field]) async throws -> Wire.HistoryResponse
    /// The whole history of records a pull page named as granted (`POST /records`).
    func records(_ ids: [String]) async throws -> Wire.RecordsResponse
    /// A push that says the oldest schema version its changes were made with.
    func push(_ changes: [Change], batches: [SignedBatch], schemaVersion: Int) async throws -> Wire.PushResponse
    /// The project's schema now; nil from a transport without schema versions.
    func currentSchema() async throws -> Schema?
    /// The project's keys and the wraps made for this user's devices (`GET /keys`); nil from a
    /// transport without signatures, which carries no keys either.
    func projectKeys() async throws -> Wire.ProjectKeys?
    /// Offers a new project key (`POST /keys`): the answer says whether it became current.
    func createKey(_ creation: Wire.KeyCreation) async throws -> Wire.ProjectKeys
    /// Stores copies of a key for other devices (`POST /keys/{id}/wraps`).
    func grantKey(_ id: String, wraps: [Wire.KeyWrap]) async throws -> Wire.ProjectKeys
}

extension SyncTransport {
    /// A server without schema versions takes the push as it is.
    func push(_ changes: [Change], batches: [SignedBatch], schemaVersion: Int) async throws -> Wire.PushResponse {
        try await push(changes, batches: batches)
    }

    /// A server without schema versions has none to give.
    func currentSchema() async throws -> Schema? { nil }

    /// A server that names no agreement key of its own.
    func deviceList() async throws -> Wire.DeviceList? {
        try await devices().map { Wire.DeviceList(devices: $0, serverTime: 0) }
    }

    /// A server without history to give: every field answered with nothing.
    func history(_ fields: [Wire.HistoryRequest.Field]) async throws -> Wire.HistoryResponse {
        Wire.HistoryResponse(changes: [], answered: fields.count, serverTime: 0)
    }

    /// A server without groups grants nothing.
    func records(_ ids: [String]) async throws -> Wire.RecordsResponse {
        Wire.RecordsResponse(changes: [], serverTime: 0)
    }

    /// A transport without signatures carries no project keys.
    func projectKeys() async throws -> Wire.ProjectKeys? { nil }

    func createKey(_ creation: Wire.KeyCreation) async throws -> Wire.ProjectKeys {
        throw ClientError("this server keeps no project keys")
    }

    func grantKey(_ id: String, wraps: [Wire.KeyWrap]) async throws -> Wire.ProjectKeys {
        throw ClientError("this server keeps no project keys")
    }
}

/// The HTTP side of the protocol over one `ServerConnection`: one method per endpoint, errors as
/// `ClientError`s (and `ServerKeyMismatch`). Certificates are verified against the system's
/// authorities and, when given, the replica's own CA, and the server's key against the replica's
/// pins. Call `close()` when done (or use `SyncClient.with`).
final class SyncClient: SyncTransport {
    let address: ServerAddress
    let project: String
    let token: String
    private let connection: ServerConnection
    /// The request path up to the endpoint, and the `Host` header.
    private let basePath: String
    private let hostHeader: String

    init(address: ServerAddress, project: String, token: String, timeoutSeconds: Int64 = 120) throws {
        self.address = address
        self.project = project
        self.token = token
        let url = address.url
        guard let rawHost = url.host, !rawHost.isEmpty else { throw ClientError("the server address \(url) is not a valid URL") }
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
        let port = url.port ?? (address.isHTTPS ? 443 : 80)
        hostHeader = (host.contains(":") ? "[\(host)]" : host) + (url.port.map { ":\($0)" } ?? "")
        var path = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? ""
        while path.hasSuffix("/") { path.removeLast() }
        let projectPath = project.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? project
        basePath = path + "/\(Wire.version)/projects/\(projectPath)/"
        // TLS only for https: building a TLS context loads the system's CA bundle, which costs
        // milliseconds that a plain-http sync on loopback need not pay.
        let tls = address.isHTTPS ? try Self.tlsContext(trusting: address.certificateAuthority) : nil
        let target = ServerConnection.Target(host: host, port: port, tls: tls, serverName: Self.isIPAddress(host) ? nil : host,
                                             pins: address.pins, server: url)
        connection = ServerConnection(target: target, timeout: .seconds(timeoutSeconds), maxAnswerBytes: Self.maxAnswerBytes)
    }

    /// Runs `body` with a client and always closes it.
    static func with<T: Sendable>(address: ServerAddress, project: String, token: String, timeoutSeconds: Int64 = 120,
                                  _ body: (SyncClient) async throws -> T) async throws -> T {
        let client = try SyncClient(address: address, project: project, token: token, timeoutSeconds: timeoutSeconds)
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    func close() async { await connection.close() }

    var server: URL { address.url }

    /// What the server showed of its keys (https): the key it presented and the keys it announced.
    var serverKeys: ServerConnection.Keys { connection.keys }

    func schema() async throws -> Wire.SchemaResponse {
        try await send(.GET, "schema") { try JSONDecoder().decode(Wire.SchemaResponse.self, from: $0) }
    }

    func push(_ changes: [Change]) async throws -> Wire.PushResponse {
        try await push(changes, batches: [])
    }

    func push(_ changes: [Change], batches: [SignedBatch]) async throws -> Wire.PushResponse {
        try await send(.POST, "push", body: WireCodec.encode(Wire.PushRequest(changes: changes, batches: batches))) {
            try WireCodec.decodePushResponse($0)
        }
    }

    func push(_ changes: [Change], batches: [SignedBatch], schemaVersion: Int) async throws -> Wire.PushResponse {
        try await send(.POST, "push", body: WireCodec.encode(Wire.PushRequest(changes: changes, batches: batches, schemaVersion: schemaVersion))) {
            try WireCodec.decodePushResponse($0)
        }
    }

    func currentSchema() async throws -> Schema? {
        try await schema().schema
    }

    func devices() async throws -> [Wire.Device]? {
        try await deviceList()?.devices
    }

    func deviceList() async throws -> Wire.DeviceList? {
        do {
            return try await send(.GET, "devices") { try JSONDecoder().decode(Wire.DeviceList.self, from: $0) }
        } catch let error as ClientError where error.status == 404 {
            throw ClientError("the server at \(server) does not sign changes (it is older than this casebook): upgrade the server; your local changes are kept")
        }
    }

    func registerDevice(_ registration: Wire.DeviceRegistration) async throws -> Bool {
        do {
            _ = try await send(.POST, "devices", body: try JSONEncoder().encode(registration)) { $0 }
        } catch let error as ClientError where error.status == 404 {
            throw ClientError("the server at \(server) does not sign changes (it is older than this casebook): upgrade the server; your local changes are kept")
        }
        return true
    }

    func pull(after: Int64, limit: Int, skip: Wire.OwnChanges?) async throws -> Wire.PullResponse {
        let own = skip.map { "&" + $0.query } ?? ""
        return try await send(.GET, "pull", query: "after=\(after)&limit=\(limit)\(own)", decode: WireCodec.decodePullResponse)
    }

    func snapshot(after: HLC?, limit: Int) async throws -> Wire.SnapshotResponse {
        try await send(.GET, "snapshot", query: "after=\(after?.text ?? "")&limit=\(limit)", decode: WireCodec.decodeSnapshotResponse)
    }

    func history(_ fields: [Wire.HistoryRequest.Field]) async throws -> Wire.HistoryResponse {
        try await send(.POST, "history", body: try JSONEncoder().encode(Wire.HistoryRequest(fields: fields))) {
            try JSONDecoder().decode(Wire.HistoryResponse.self, from: $0)
        }
    }

    func records(_ ids: [String]) async throws -> Wire.RecordsResponse {
        try await send(.POST, "records", body: try JSONEncoder().encode(Wire.RecordsRequest(records: ids))) {
            try JSONDecoder().decode(Wire.RecordsResponse.self, from: $0)
        }
    }

    func projectKeys() async throws -> Wire.ProjectKeys? {
        do {
            return try await send(.GET, "keys") { try JSONDecoder().decode(Wire.ProjectKeys.self, from: $0) }
        } catch let error as ClientError where error.status == 404 {
            throw ClientError("the server at \(server) keeps no project keys (it is older than this casebook): upgrade the server; your local changes are kept")
        }
    }

    func createKey(_ creation: Wire.KeyCreation) async throws -> Wire.ProjectKeys {
        try await send(.POST, "keys", body: try JSONEncoder().encode(creation)) { try JSONDecoder().decode(Wire.ProjectKeys.self, from: $0) }
    }

    func grantKey(_ id: String, wraps: [Wire.KeyWrap]) async throws -> Wire.ProjectKeys {
        try await send(.POST, "keys/\(id)/wraps", body: try JSONEncoder().encode(Wire.KeyGrant(wraps: wraps))) {
            try JSONDecoder().decode(Wire.ProjectKeys.self, from: $0)
        }
    }

    private func send<T>(_ method: HTTPMethod, _ endpoint: String, query: String? = nil, body: Data? = nil,
                         decode: (Data) throws -> T) async throws -> T {
        let answer = try await exchange(method, endpoint, query: query, contentType: body == nil ? nil : "application/json",
                                        body: body.map { ByteBuffer(bytes: $0) })
        return try Self.interpret(status: answer.status, data: Data(answer.body.readableBytesView), server: server, decode: decode)
    }

    /// One request to an endpoint of the project, and the server's answer whatever its status; a failure
    /// below HTTP is translated (`translate`).
    func exchange(_ method: HTTPMethod, _ endpoint: String, query: String? = nil, contentType: String? = nil, body: ByteBuffer? = nil,
                  headers extra: [(String, String)] = []) async throws -> HTTPAnswer {
        let head = requestHead(method, endpoint, query: query, contentType: contentType, body: body, headers: extra)
        do {
            return try await connection.exchange(head, body: body)
        } catch {
            throw Self.translated(error, server: server)
        }
    }

    /// A request written behind the pipelined ones before it without waiting for their answers
    /// (`ServerConnection.send`); the answer is the task's, whatever its status.
    func pipelined(_ method: HTTPMethod, _ endpoint: String, contentType: String? = nil, body: ByteBuffer? = nil,
                   headers extra: [(String, String)] = []) -> Task<HTTPAnswer, any Error> {
        let head = requestHead(method, endpoint, query: nil, contentType: contentType, body: body, headers: extra)
        let answer = connection.send(head, body: body, pipelined: true)
        let server = self.server
        return Task {
            do {
                return try await answer.get()
            } catch {
                throw Self.translated(error, server: server)
            }
        }
    }

    private func requestHead(_ method: HTTPMethod, _ endpoint: String, query: String?, contentType: String?, body: ByteBuffer?,
                             headers extra: [(String, String)]) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: basePath + endpoint + (query.map { "?" + $0 } ?? ""))
        head.headers.add(name: "Host", value: hostHeader)
        head.headers.add(name: "Authorization", value: "Bearer \(token)")
        head.headers.add(name: "Accept", value: "application/json")
        head.headers.add(name: "User-Agent", value: "casebook")
        if let body {
            head.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            head.headers.add(name: "Content-Length", value: String(body.readableBytes))
        }
        for (name, value) in extra { head.headers.add(name: name, value: value) }
        return head
    }

    /// A failure of an exchange as the caller sees it: the key mismatch and client errors as they are,
    /// failures below HTTP translated.
    private static func translated(_ error: any Error, server: URL) -> any Error {
        if error is ServerKeyMismatch || error is ClientError { return error }
        return translate(error, server: server)
    }

    /// A client TLS context: certificates verified against the system's authorities and `authority`, host names checked.
    private static func tlsContext(trusting authority: ServerAddress.CertificateAuthority?) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let authority { configuration.additionalTrustRoots = [.certificates(try authority.certificates())] }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ClientError("cannot set up a secure connection (\(error)): check that the system's certificate store is readable")
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
