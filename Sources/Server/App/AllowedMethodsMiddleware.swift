import Foundation
import HTTPTypes
import Hummingbird

/// Answers a known path asked with a method it does not serve with 405 and an `Allow` header
/// (RFC 9110 §15.5.6), instead of the router's 404.
///
/// Added to the router after the routes, so it runs only for requests that matched none of
/// them (Hummingbird applies a middleware to the routes added after it, and to "not found").
struct AllowedMethodsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The routes' paths and methods, as the router lists them.
    let routes: [(path: RouterPath, method: HTTPRequest.Method)]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let allowed = methods(for: request.uri.path)
        guard !allowed.isEmpty, !allowed.contains(request.method) else { return try await next(request, context) }
        let list = allowed.map(\.rawValue).sorted().joined(separator: ", ")
        var response = JSONResponse.error(APIError(
            status: .methodNotAllowed, code: "method_not_allowed",
            message: "\(request.method) is not served at \(request.uri.path): use \(list)"))
        response.headers[.allow] = list
        return response
    }

    /// The methods served at `path` (none when no route has that path).
    func methods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return routes.filter { route in
            route.path.components.count == segments.count
                && zip(route.path.components, segments).allSatisfy { element, segment in element ~= segment }
        }.map(\.method)
    }
}
