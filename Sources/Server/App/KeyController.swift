import Foundation
import Hummingbird
import Shared

/// The project key endpoints (docs/protocol.md, "Sensitive fields"): members fetch the wraps made for
/// their devices, create the project's key (the first creation wins) and grant it to others' devices.
/// The server holds wrapped copies only and never a key.
struct KeyController: Sendable {
    let store: any SyncStore
    let settings: ServerSettings
    let guardian: AuthGuard

    func addRoutes(to router: Router<AppRequestContext>) {
        let project = router.group("/v1/projects/:project")
        project.get("keys") { request, context in try await list(request, context) }
        project.post("keys") { request, context in try await create(request, context) }
        project.post("keys/:key/wraps") { request, context in try await grant(request, context) }
    }

    private func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = SyncController.projectName(context)
        let (user, _) = try await guardian.authorize(request, context: context, project: project, push: false)
        return try JSONResponse.make(try await store.projectKeys(project: project, owner: user.name))
    }

    /// Makes a new current key when the one it names as previous still is; either way the answer is the keys as they are now.
    /// Only a member who may push makes or rotates a key: a viewer writes no sealed value, and a key
    /// they made would be wrapped for whom they chose.
    private func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = SyncController.projectName(context)
        let (user, _) = try await guardian.authorize(request, context: context, project: project, push: true)
        let creation = try await decode(Wire.KeyCreation.self, request)
        if let previous = creation.previous, !ProjectKeyID.isValid(previous) {
            throw APIError.badRequest("'previous' must be a key id (16 characters 0-9a-f)")
        }
        try await checker(project: project, user: user.name).check(creation.wraps, keyID: creation.id)
        let created = try await store.createProjectKey(project: project, creation: creation, creator: user.name, now: settings.clock())
        context.logger.info(created ? "project key created" : "project key not created: another is current",
                            metadata: ["project": "\(project)", "user": "\(user.name)", "key": "\(creation.id)"])
        var keys = try await store.projectKeys(project: project, owner: user.name)
        keys.created = created
        return try JSONResponse.make(keys)
    }

    /// Stores copies of a key for other devices (`casebook grant`).
    private func grant(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = SyncController.projectName(context)
        let (user, _) = try await guardian.authorize(request, context: context, project: project, push: false)
        let keyID = context.parameters.get("key") ?? ""
        let grant = try await decode(Wire.KeyGrant.self, request)
        try await checker(project: project, user: user.name).check(grant.wraps, keyID: keyID)
        try await store.addKeyWraps(project: project, keyID: keyID, wraps: grant.wraps, now: settings.clock())
        context.logger.info("project key granted", metadata: ["project": "\(project)", "user": "\(user.name)", "key": "\(keyID)",
                                                             "devices": "\(grant.wraps.count)"])
        return try JSONResponse.make(try await store.projectKeys(project: project, owner: user.name))
    }

    private func checker(project: String, user: String) async throws -> KeyWrapCheck {
        let members = try await store.projectKeys(project: project, owner: user).members
        return KeyWrapCheck(project: project, user: user, devices: try await store.devices(project: project), members: Set(members))
    }

    private func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: body))
        } catch let error as DecodingError {
            throw APIError.badRequest("the request is not valid: \(DecodingErrorText.describe(error))")
        }
    }
}
