import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Shared

/// Answers the errors that do not carry their own response: Hummingbird's own (an unknown path, a
/// body over the limit) in this API's JSON body, and unexpected ones as a 500 that is logged but
/// not shown. `APIError` and `StoreError` are their own responses and pass through.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch is NIOTooManyBytesError {
            return JSONResponse.error(.tooLarge("the request body is larger than the limit of \(maxBodyBytes) bytes: send fewer changes per request"))
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "not_found" : error.status == .methodNotAllowed ? "method_not_allowed" : "http_\(error.status.code)"
            let message = error.status == .notFound
                ? "no such endpoint: \(request.method) \(request.uri.path)"
                : (error.body ?? error.status.reasonPhrase)
            return JSONResponse.error(APIError(status: error.status, code: code, message: message))
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            // The type only (errors may carry record contents), except for a store's own defects.
            let detail = (error as? StoreDefect)?.description ?? String(reflecting: type(of: error))
            context.logger.error("unexpected error", metadata: ["error": "\(detail)"])
            return JSONResponse.error(APIError(
                status: .internalServerError, code: "internal",
                message: "the server failed to handle the request; its log has the details (request \(context.id))"))
        }
    }
}
