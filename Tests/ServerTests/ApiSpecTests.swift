import Foundation
import Hummingbird
import Testing
import Yams
@testable import Server
@testable import Shared

/// docs/openapi.yaml read next to the server's own rules, without schemathesis: the routes, the
/// project naming rule and the error codes, so that the two cannot drift apart unnoticed where
/// schemathesis is not installed.
@Suite struct ApiSpecTests {
    static let specURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.yaml").standardized

    func spec() throws -> [String: Any] {
        let text = try String(contentsOf: Self.specURL, encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    @Test func theSpecListsExactlyTheServersRoutes() async throws {
        let harness = try await ServerHarness()
        defer { harness.cleanUp() }
        let router = Router(context: AppRequestContext.self)
        let guardian = AuthGuard(store: harness.store, throttle: AuthThrottle())
        SyncController(store: harness.store, settings: harness.settings, guardian: guardian).addRoutes(to: router)
        FileController(store: harness.store, settings: harness.settings, guardian: guardian).addRoutes(to: router)
        DeviceController(store: harness.store, settings: harness.settings, guardian: guardian).addRoutes(to: router)
        KeyController(store: harness.store, settings: harness.settings, guardian: guardian).addRoutes(to: router)
        // Hummingbird writes a parameter `:name`, OpenAPI `{name}`.
        let served = Set(router.routes.map { route in
            "\(route.method.rawValue) " + route.path.description.replacingOccurrences(of: #":(\w+)"#, with: "{$1}", options: .regularExpression)
        })
        let paths = try #require(try spec()["paths"] as? [String: [String: Any]])
        let methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
        let documented = Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
        #expect(served == documented)
    }

    @Test func theSpecsProjectPatternIsTheServersNamingRule() throws {
        let parameters = try #require(try spec()["components"] as? [String: Any])["parameters"] as? [String: Any]
        let project = try #require((parameters?["Project"] as? [String: Any])?["schema"] as? [String: Any])
        let pattern = try NSRegularExpression(pattern: try #require(project["pattern"] as? String))
        var names = (0...127).map { String(UnicodeScalar(UInt8($0))) } + ["é", "kz", "a-b_C9", "", "k z"]
        names += [String(repeating: "a", count: 64), String(repeating: "a", count: 65)]
        for name in names {
            let matches = pattern.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
            #expect(matches == ProjectName.isValid(name), "\(name.unicodeScalars.map { $0.value })")
        }
        #expect(project["maxLength"] as? Int == 64)
    }

    @Test func everyErrorCodeTheServerSendsIsNamedInTheSpec() throws {
        let schemas = try #require(try spec()["components"] as? [String: Any])["schemas"] as? [String: Any]
        let error = try #require((schemas?["Error"] as? [String: Any])?["properties"] as? [String: Any])
        let code = try #require(((error["error"] as? [String: Any])?["properties"] as? [String: Any])?["code"] as? [String: Any])
        let text = try #require(code["description"] as? String)
        // The codes of APIError and StoreError responses, and of ErrorMiddleware's and AllowedMethodsMiddleware's.
        let produced = [APIError.badRequest(""), .unauthorized(""), .forbidden(""), .tooLarge("")].map(\.code)
            + ["not_found", "method_not_allowed", "conflict", "internal", "unavailable", "insufficient_storage"]
            + ["chunk_corrupt", "hash_mismatch", "quota_exceeded"]
        for name in produced {
            #expect(text.contains("\(name) ("), "Error.code does not name \(name)")
        }
        #expect(!text.contains("not produced"))
    }
}
