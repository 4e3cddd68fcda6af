import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Shared

/// What a sync needs from the server. `SyncClient` speaks HTTP; tests substitute their own.
protocol SyncTransport: Sendable {
    func push(_ changes: [Change]) async throws -> Wire.PushResponse
    func pull(after: Int64, limit: Int) async throws -> Wire.PullResponse
    func snapshot(after: HLC?, limit: Int) async throws -> Wire.SnapshotResponse
}

/// The HTTP side of the protocol: one method per endpoint, errors as `ClientError`s.
struct SyncClient: SyncTransport {
    let server: URL
    let project: String
    let token: String
    let session: URLSession

    init(server: URL, project: String, token: String, timeout: TimeInterval = 120) {
        self.server = server
        self.project = project
        self.token = token
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 5
        configuration.httpAdditionalHeaders = ["User-Agent": "casebook"]
        session = URLSession(configuration: configuration)
    }

    func schema() async throws -> Wire.SchemaResponse {
        try await send("GET", "schema")
    }

    func push(_ changes: [Change]) async throws -> Wire.PushResponse {
        try await send("POST", "push", body: try JSONEncoder().encode(Wire.PushRequest(changes: changes)))
    }

    func pull(after: Int64, limit: Int) async throws -> Wire.PullResponse {
        try await send("GET", "pull", query: [URLQueryItem(name: "after", value: String(after)), URLQueryItem(name: "limit", value: String(limit))])
    }

    func snapshot(after: HLC?, limit: Int) async throws -> Wire.SnapshotResponse {
        try await send("GET", "snapshot", query: [URLQueryItem(name: "after", value: after?.text ?? ""), URLQueryItem(name: "limit", value: String(limit))])
    }

    private func send<T: Decodable>(_ method: String, _ endpoint: String, query: [URLQueryItem] = [], body: Data? = nil) async throws -> T {
        let projectPath = project.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? project
        guard var components = URLComponents(url: server.appendingPathComponent("v1/projects/\(projectPath)/\(endpoint)"), resolvingAgainstBaseURL: false) else {
            throw ClientError("the server address \(server) is not a valid URL")
        }
        if !query.isEmpty { components.queryItems = query }
        guard let url = components.url else { throw ClientError("the server address \(server) is not a valid URL") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch let error as URLError {
            throw Self.translate(error, server: server)
        }
        guard let http = response as? HTTPURLResponse else { throw ClientError("the server at \(server) sent an answer that is not HTTP") }
        guard (200..<300).contains(http.statusCode) else {
            let message = (try? JSONDecoder().decode(Wire.ErrorResponse.self, from: data))?.error.message
            var error = Self.httpError(status: http.statusCode, message: message, server: server)
            error.status = http.statusCode
            throw error
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw ClientError("the server at \(server) sent an answer this client does not understand: is it a Casebook server of the same version?")
        }
    }

    static func translate(_ error: URLError, server: URL) -> ClientError {
        switch error.code {
        case .cannotConnectToHost, .cannotFindHost, .timedOut, .networkConnectionLost, .notConnectedToInternet, .dnsLookupFailed,
             .resourceUnavailable, .internationalRoamingOff, .callIsActive, .dataNotAllowed, .badServerResponse, .zeroByteResource:
            return ClientError(
                "cannot reach the server at \(server) (\(error.localizedDescription)): your local changes are kept; sync again when the network is back",
                exitCode: ClientError.unreachableExitCode)
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
             .serverCertificateHasUnknownRoot, .clientCertificateRejected, .clientCertificateRequired:
            return ClientError("the secure connection to \(server) failed (\(error.localizedDescription)): check the server's certificate; nothing was sent")
        default:
            return ClientError("the request to \(server) failed (\(error.localizedDescription)): your local changes are kept")
        }
    }

    static func httpError(status: Int, message: String?, server: URL) -> ClientError {
        let detail = message ?? "HTTP \(status)"
        switch status {
        case 401: return ClientError("the server refused this replica's token (\(detail))")
        case 403: return ClientError("the server refused: \(detail)")
        case 413: return ClientError("the server refused a request as too large: \(detail)")
        case 500...599:
            return ClientError("the server failed (\(detail)): your local changes are kept; try again later", exitCode: status == 502 || status == 503 || status == 504 ? ClientError.unreachableExitCode : 1)
        default: return ClientError("the server answered \(status): \(detail)")
        }
    }
}
