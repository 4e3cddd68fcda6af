import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Shared

/// The evidence-file endpoints (docs/protocol.md, "Evidence files"): status, chunk upload and
/// download (`+Chunks`), and the custody log. Every member may ask, download and post custody;
/// researchers and admins upload.
struct FileController: Sendable {
    let store: any SyncStore
    let settings: ServerSettings
    let guardian: AuthGuard

    /// Most custody events one page returns, and the default.
    static let maxCustodyPage = 10_000
    static let defaultCustodyPage = 1_000

    func addRoutes(to router: Router<AppRequestContext>) {
        let project = router.group("/v1/projects/:project")
        project.post("files/status") { request, context in try await status(request, context) }
        project.put("files/:sha256/chunks/:index") { request, context in try await putChunk(request, context) }
        project.get("files/:sha256/chunks/:index") { request, context in try await getChunk(request, context) }
        project.post("custody") { request, context in try await postCustody(request, context) }
        project.get("custody") { request, context in try await getCustody(request, context) }
    }

    private func status(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = SyncController.projectName(context)
        _ = try await guardian.authorize(request, context: context, project: project, push: false)
        let asked = try await decode(Wire.FileStatusRequest.self, request, what: "status request")
        guard asked.files.count <= Wire.Files.maxStatusBatch else {
            throw APIError.badRequest("a status request may ask about at most \(Wire.Files.maxStatusBatch) files, this one asks about \(asked.files.count): ask in batches")
        }
        if let bad = asked.files.first(where: { !FileRef.isSHA256($0) }) {
            throw APIError.badRequest("'\(bad.prefix(80))' is not a file's name: files are named by their SHA-256, 64 lower-case hex digits")
        }
        let files = try await store.fileStatus(project: project, hashes: asked.files)
        return try JSONResponse.make(Wire.FileStatusResponse(files: files))
    }

    private func postCustody(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = SyncController.projectName(context)
        let (user, _) = try await guardian.authorize(request, context: context, project: project, push: false)
        let push = try await decode(Wire.CustodyPush.self, request, what: "custody push")
        guard push.events.count <= Wire.Files.maxCustodyBatch else {
            throw APIError.badRequest("a custody push may carry at most \(Wire.Files.maxCustodyBatch) events, this one has \(push.events.count): send smaller batches")
        }
        for event in push.events {
            if let problem = CustodyRules.problem(event) { throw APIError.badRequest("custody event \(event.id.prefix(80)): \(problem)") }
        }
        let stored = try await store.appendCustody(project: project, events: push.events, user: user.name, now: settings.clock())
        context.logger.info("custody", metadata: ["project": "\(project)", "user": "\(user.name)", "events": "\(push.events.count)", "stored": "\(stored)"])
        return try JSONResponse.make(Wire.CustodyPushResponse(stored: stored))
    }

    private func getCustody(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = SyncController.projectName(context)
        let (_, membership) = try await guardian.authorize(request, context: context, project: project, push: false)
        let after = try SyncController.integer(request, "after", default: 0)
        guard after >= 0 else { throw APIError.badRequest("'after' must be a custody position of 0 or more") }
        let limit = try SyncController.integer(request, "limit", default: Int64(Self.defaultCustodyPage))
        guard limit >= 1 else { throw APIError.badRequest("'limit' must be at least 1") }
        let page = try await store.custody(project: project, after: after, limit: Int(min(limit, Int64(Self.maxCustodyPage))),
                                           reader: membership.access)
        return try JSONResponse.make(page)
    }

    /// A JSON body of at most the server's body limit, or 400 saying what is wrong with it.
    private func decode<T: Decodable>(_ type: T.Type, _ request: Request, what: String) async throws -> T {
        var request = request
        let body = try await request.collectBody(upTo: settings.maxBodyBytes)
        do {
            return try JSONDecoder().decode(type, from: Data(buffer: body))
        } catch let error as DecodingError {
            throw APIError.badRequest("the \(what) is not valid: \(DecodingErrorText.describe(error))")
        }
    }
}
