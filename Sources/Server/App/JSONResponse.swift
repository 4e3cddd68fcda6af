import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Shared

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

    /// The body of every error, `{"error": {"code", "message"}}`; a 401 also says which scheme to use.
    static func error(_ error: APIError) -> Response {
        var response = (try? make(Wire.ErrorResponse(code: error.code, message: error.message), status: error.status))
            ?? Response(status: error.status)
        if error.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        if let retryAfter = error.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        response.headers.append(contentsOf: error.headers)
        return response
    }
}
