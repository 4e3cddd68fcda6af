import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Shared

/// An error a client can act on: an HTTP status, a stable code, and a message.
struct APIError: Error, CustomStringConvertible {
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
}

/// Turns every error into `{"error": {"code", "message"}}` with the right status, and logs
/// unexpected ones without showing them to the client.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return JSONResponse.error(error)
        } catch is NIOTooManyBytesError {
            return JSONResponse.error(.tooLarge("the request body is larger than the limit of \(maxBodyBytes) bytes: send fewer changes per request"))
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "not_found" : error.status == .methodNotAllowed ? "method_not_allowed" : "http_\(error.status.code)"
            let message = error.status == .notFound
                ? "no such endpoint: \(request.method) \(request.uri.path)"
                : (error.body ?? error.status.reasonPhrase)
            return JSONResponse.error(APIError(status: error.status, code: code, message: message))
        } catch let error as StoreError {
            switch error {
            case .notFound(let message): return JSONResponse.error(APIError(status: .notFound, code: "not_found", message: message))
            case .conflict(let message): return JSONResponse.error(APIError(status: .conflict, code: "conflict", message: message))
            case .unavailable(let message):
                context.logger.error("store unavailable", metadata: ["reason": "\(message)"])
                return JSONResponse.error(APIError(status: .serviceUnavailable, code: "unavailable", message: message))
            }
        } catch let error as DatabaseError where [.SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode.primaryResultCode) {
            return JSONResponse.error(APIError(status: .serviceUnavailable, code: "unavailable", message: "the database is busy: try again in a moment"))
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

/// Puts the server's clock on every response, so a client can measure its skew.
struct ServerTimeMiddleware<Context: RequestContext>: RouterMiddleware {
    let clock: @Sendable () -> UInt64

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[HTTPField.Name(Wire.serverTimeHeader)!] = String(clock())
        return response
    }
}

/// JSON responses with a fixed encoder.
enum JSONResponse {
    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A body already encoded as JSON.
    static func raw(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ error: APIError) -> Response {
        var response = (try? make(Wire.ErrorResponse(code: error.code, message: error.message), status: error.status))
            ?? Response(status: error.status)
        if error.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}
