import Foundation
import HTTPTypes
import Hummingbird

/// An error a client can act on: an HTTP status, a stable code, and a message.
///
/// It is its own response (`{"error": {"code", "message"}}`, with `WWW-Authenticate: Bearer` on
/// 401), so a handler just throws it.
struct APIError: Error, CustomStringConvertible, HTTPResponseError {
    var status: HTTPResponse.Status
    var code: String
    var message: String

    var description: String { "\(status.code) \(code): \(message)" }

    static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(status: .badRequest, code: code, message: message)
    }
    static func unauthorized(_ message: String) -> APIError {
        APIError(status: .unauthorized, code: "unauthorized", message: message)
    }
    static func forbidden(_ message: String) -> APIError {
        APIError(status: .forbidden, code: "forbidden", message: message)
    }
    static func tooLarge(_ message: String) -> APIError {
        APIError(status: .contentTooLarge, code: "too_large", message: message)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.error(self)
    }
}
