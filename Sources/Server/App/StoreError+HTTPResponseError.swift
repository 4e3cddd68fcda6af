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
        case .insufficientStorage(let message): APIError(status: .insufficientStorage, code: "insufficient_storage", message: message)
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        switch self {
        case .unavailable(let message): context.logger.error("store unavailable", metadata: ["reason": "\(message)"])
        case .insufficientStorage(let message): context.logger.error("store full", metadata: ["reason": "\(message)"])
        default: break
        }
        return JSONResponse.error(apiError)
    }
}
