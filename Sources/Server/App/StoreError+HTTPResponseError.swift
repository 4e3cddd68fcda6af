import Foundation
import HTTPTypes
import Hummingbird

// A store error reaches the client as the status and code of what went wrong, with its message.
extension StoreError: HTTPResponseError {
    var status: HTTPResponse.Status { apiError.status }

    /// The error as the client sees it.
    var apiError: APIError {
        switch self {
        case .notFound(let message): APIError(status: .notFound, code: "not_found", message: message)
        case .conflict(let message): APIError(status: .conflict, code: "conflict", message: message)
        case .unavailable(let message): APIError(status: .serviceUnavailable, code: "unavailable", message: message)
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        if case .unavailable(let message) = self {
            context.logger.error("store unavailable", metadata: ["reason": "\(message)"])
        }
        return JSONResponse.error(apiError)
    }
}
