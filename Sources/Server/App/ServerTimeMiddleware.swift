import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Puts the server's clock on every response, so a client can measure its skew: errors included,
/// so an error that carries its own response becomes that response here.
struct ServerTimeMiddleware<Context: RequestContext>: RouterMiddleware {
    let clock: @Sendable () -> UInt64

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[HTTPField.Name(Wire.serverTimeHeader)!] = String(clock())
        return response
    }
}
