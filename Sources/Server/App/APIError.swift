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
    /// Seconds the client should wait before trying again (the `Retry-After` header of a 429).
    var retryAfter: Int?
    /// Headers the answer carries besides the JSON body (e.g. `Casebook-File-Received` on a 409).
    var headers: HTTPFields = [:]

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

    /// 422: the request was understood but its content is wrong (a damaged chunk, a chunk set that
    /// does not hash to its name).
    static func unprocessable(_ message: String, code: String) -> APIError {
        APIError(status: .unprocessableContent, code: code, message: message)
    }

    /// 429: the address has too many failed authentications waiting.
    static func throttled(retryAfter: Duration) -> APIError {
        let seconds = max(1, Int(retryAfter.components.seconds) + (retryAfter.components.attoseconds > 0 ? 1 : 0))
        return APIError(status: .tooManyRequests, code: "throttled",
                        message: "too many failed logins from this address: wait \(seconds) s and try again with a valid token",
                        retryAfter: seconds)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.error(self)
    }
}

extension HTTPResponse.Status {
    /// 507 (RFC 4918): the server cannot store what the request needs.
    static var insufficientStorage: Self { .init(code: 507, reasonPhrase: "Insufficient Storage") }
}
