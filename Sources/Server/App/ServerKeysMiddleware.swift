import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Puts the server's TLS keys on every answer (`Casebook-Server-Keys`): the key of the certificate
/// it serves first, then those of the certificates it will switch to. A replica that reached the
/// server over its pinned key learns the next ones, so a planned switch locks nobody out.
struct ServerKeysMiddleware<Context: RequestContext>: RouterMiddleware {
    private let name = HTTPField.Name(Wire.serverKeysHeader)!
    private let value: String

    init(keys: [ServerKey]) {
        value = ServerKey.header(keys)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Errors became responses in the middlewares inside this one (`ServerTimeMiddleware`).
        var response = try await next(request, context)
        response.headers[name] = value
        return response
    }
}
