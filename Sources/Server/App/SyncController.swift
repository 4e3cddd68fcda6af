import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Shared

/// The v1 endpoints: health, schema, push, pull, snapshot, history and records.
struct SyncController: Sendable {
    let store: any SyncStore
    let settings: ServerSettings
    let guardian: AuthGuard

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/v1/health") { _, _ in
            try JSONResponse.make(Wire.HealthResponse(status: "ok", serverTime: settings.clock()))
        }
        let project = router.group("/v1/projects/:project")
        project.get("schema") { request, context in try await schema(request, context) }
        project.post("push") { request, context in try await push(request, context) }
        project.get("pull") { request, context in try await pull(request, context) }
        project.get("snapshot") { request, context in try await snapshot(request, context) }
        project.post("history") { request, context in try await history(request, context) }
        project.post("records") { request, context in try await records(request, context) }
    }

    /// The project named by the path, percent-decoded (`k%7A` is `kz`). It is checked against the
    /// naming rule by `AuthGuard.authorize`, after the token: a caller without one gets 401 whatever the path says.
    static func projectName(_ context: AppRequestContext) -> String {
        let segment = context.parameters.get("project") ?? ""
        // Text that is not valid percent-encoding stays as it is: its '%' breaks the naming rule.
        return segment.removingPercentEncoding ?? segment
    }

    private func schema(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = Self.projectName(context)
        let (user, membership) = try await guardian.authorize(request, context: context, project: project, push: false)
        guard let schema = try await store.schema(project: project) else {
            throw APIError.forbidden(AuthGuard.notMemberMessage(project))
        }
        return try JSONResponse.make(Wire.SchemaResponse(
            project: project, schema: schema, user: user.name, role: membership.role.rawValue, serverTime: settings.clock()))
    }

    private func push(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = Self.projectName(context)
        let (user, membership) = try await guardian.authorize(request, context: context, project: project, push: true)
        var request = request
        let body = try await request.collectBody(upTo: settings.maxBodyBytes)
        let batch: Wire.PushRequest
        do {
            batch = try WireCodec.decodePushRequest(Data(buffer: body))
        } catch let error as DecodingError {
            throw APIError.badRequest("the push body is not valid: \(DecodingErrorText.describe(error))")
        }
        guard batch.changes.count <= settings.maxBatch else {
            throw APIError.tooLarge("a push may carry at most \(settings.maxBatch) changes, this one has \(batch.changes.count): send smaller batches")
        }
        let signatures: PushSignatures
        do {
            signatures = try PushSignatures(checking: batch, project: project, devices: try await store.devices(project: project), pusher: user.name)
            // Relayed changes (bundles) only from members who may still push themselves.
            if !signatures.relayedAuthors.isEmpty, let refusal = signatures.relayRefusal(pushers: try await store.pushers(project: project)) {
                throw refusal
            }
        } catch let refusal as PushSignatures.Refusal {
            context.logger.warning("push refused: bad signature", metadata: ["project": "\(project)", "user": "\(user.name)"])
            throw refusal.revoked ? APIError.forbidden(refusal.message) : APIError.unprocessable(refusal.message, code: "bad_signature")
        }
        let policy = PushPolicy(now: settings.clock(), maxDriftMillis: settings.maxDriftMillis, schemaVersion: batch.schemaVersion)
        let results = try await store.push(project: project, changes: batch.changes, author: user.name, reader: membership.access, policy: policy,
                                           signatures: signatures)
        context.logger.info("push", metadata: [
            "project": "\(project)", "user": "\(user.name)", "changes": "\(batch.changes.count)",
            "rejected": "\(results.filter { $0.status == .rejected }.count)",
        ])
        return JSONResponse.raw(WireCodec.encode(Wire.PushResponse(results: results, serverTime: settings.clock())))
    }

    private func pull(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = Self.projectName(context)
        let (user, membership) = try await guardian.authorize(request, context: context, project: project, push: false)
        let after = try Self.integer(request, "after", default: 0)
        guard after >= 0 else { throw APIError.badRequest("'after' must be a sequence number of 0 or more") }
        var skip = try ownChanges(request)
        // Only the puller's own node may be skipped: skipping another's would hide changes it never made.
        if let own = skip, try await store.nodeOwner(project: project, node: own.node) != user.name { skip = nil }
        var page = try await store.pull(project: project, after: after, limit: try pageSize(request), maxBytes: settings.maxPageBytes, skip: skip,
                                        reader: membership.access)
        page.serverTime = settings.clock()
        return JSONResponse.raw(WireCodec.encode(page))
    }

    /// The puller's own changes named by `skipNode` and `skipUpTo`, nil without `skipNode`.
    /// `skipUpTo` is checked whether or not `skipNode` comes with it (alone it skips nothing).
    private func ownChanges(_ request: Request) throws -> Wire.OwnChanges? {
        let upTo = try Self.integer(request, Wire.OwnChanges.upToParameter, default: 0)
        guard upTo >= 0 else { throw APIError.badRequest("'\(Wire.OwnChanges.upToParameter)' must be a sequence number of 0 or more") }
        guard let text = request.uri.queryParameters.get(Wire.OwnChanges.nodeParameter) else { return nil }
        guard let node = NodeID(String(text)) else {
            throw APIError.badRequest("'\(Wire.OwnChanges.nodeParameter)' must be a node id (1-32 characters 0-9a-f)")
        }
        return Wire.OwnChanges(node: node, upTo: upTo)
    }

    private func snapshot(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = Self.projectName(context)
        let (_, membership) = try await guardian.authorize(request, context: context, project: project, push: false)
        var after: HLC?
        if let text = request.uri.queryParameters.get("after"), !text.isEmpty {
            guard let hlc = HLC(text: text) else { throw APIError.badRequest("'after' must be a timestamp as returned in 'next'") }
            after = hlc
        }
        var page = try await store.snapshot(project: project, after: after, limit: try pageSize(request), maxBytes: settings.maxPageBytes,
                                            reader: membership.access)
        page.serverTime = settings.clock()
        return JSONResponse.raw(WireCodec.encode(page))
    }

    /// The versions the automatic merges of some fields read: any member may ask (it reads what a pull would give).
    private func history(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = Self.projectName(context)
        let (_, membership) = try await guardian.authorize(request, context: context, project: project, push: false)
        var request = request
        let body = try await request.collectBody(upTo: settings.maxBodyBytes)
        let asked: Wire.HistoryRequest
        do {
            asked = try JSONDecoder().decode(Wire.HistoryRequest.self, from: Data(buffer: body))
        } catch let error as DecodingError {
            throw APIError.badRequest("the history request is not valid: \(DecodingErrorText.describe(error))")
        }
        guard asked.fields.count <= Wire.HistoryRequest.maxFields else {
            throw APIError.tooLarge("a history request may name at most \(Wire.HistoryRequest.maxFields) fields, this one names \(asked.fields.count): ask in parts")
        }
        for (index, field) in asked.fields.enumerated() {
            guard RecordID.isValid(field.record) else { throw APIError.badRequest("fields[\(index)].record: a record id is 32 characters 0-9a-f") }
            guard field.heads.count <= MergeRule.Limits.headsPerField else {
                throw APIError.badRequest("fields[\(index)].heads: at most \(MergeRule.Limits.headsPerField) versions")
            }
        }
        var answer = try await store.history(project: project, fields: asked.fields, maxBytes: settings.maxPageBytes, reader: membership.access)
        answer.serverTime = settings.clock()
        return try JSONResponse.make(answer)
    }

    /// The whole history of records granted to the caller since their cursor (need-to-know).
    private func records(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = Self.projectName(context)
        let (_, membership) = try await guardian.authorize(request, context: context, project: project, push: false)
        var request = request
        let body = try await request.collectBody(upTo: settings.maxBodyBytes)
        let asked: Wire.RecordsRequest
        do {
            asked = try JSONDecoder().decode(Wire.RecordsRequest.self, from: Data(buffer: body))
        } catch let error as DecodingError {
            throw APIError.badRequest("the records request is not valid: \(DecodingErrorText.describe(error))")
        }
        guard asked.records.count <= Wire.RecordsRequest.maxRecords else {
            throw APIError.tooLarge("a records request may name at most \(Wire.RecordsRequest.maxRecords) records, this one names \(asked.records.count): ask in parts")
        }
        if let index = asked.records.firstIndex(where: { !RecordID.isValid($0) }) {
            throw APIError.badRequest("records[\(index)]: a record id is 32 characters 0-9a-f")
        }
        var answer = try await store.records(project: project, ids: asked.records, reader: membership.access)
        answer.serverTime = settings.clock()
        return try JSONResponse.make(answer)
    }

    static func integer(_ request: Request, _ name: String, default value: Int64) throws -> Int64 {
        guard let text = request.uri.queryParameters.get(name) else { return value }
        guard let number = Int64(text) else { throw APIError.badRequest("'\(name)' must be a whole number, not '\(text.prefix(40))'") }
        return number
    }

    private func pageSize(_ request: Request) throws -> Int {
        let limit = try Self.integer(request, "limit", default: Int64(min(settings.defaultPage, settings.maxPage)))
        guard limit >= 1 else { throw APIError.badRequest("'limit' must be at least 1") }
        // A larger page than this server serves is served at its size: `more` and `next` lead on.
        return Int(min(limit, Int64(settings.maxPage)))
    }
}
