import Crypto
import Foundation
import Hummingbird
import Shared

/// The device endpoints: a replica registers its signing key, any member lists the project's devices.
struct DeviceController: Sendable {
    let store: any SyncStore
    let settings: ServerSettings
    let guardian: AuthGuard

    func addRoutes(to router: Router<AppRequestContext>) {
        let project = router.group("/v1/projects/:project")
        project.get("devices") { request, context in try await list(request, context) }
        project.post("devices") { request, context in try await register(request, context) }
    }

    private func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = SyncController.projectName(context)
        _ = try await guardian.authorize(request, context: context, project: project, push: false)
        return try JSONResponse.make(try await deviceList(project))
    }

    /// The project's devices, with the server's agreement key for bundles (made at first need).
    private func deviceList(_ project: String) async throws -> Wire.DeviceList {
        let agreement = try await ServerAgreementKey.of(project: project, store: store, now: settings.clock())
        return Wire.DeviceList(devices: try await store.devices(project: project), serverTime: settings.clock(),
                               serverAgreementKey: agreement.publicKey.rawRepresentation.base64EncodedString())
    }

    /// Registers the caller's replica: the node becomes theirs (if nobody's yet) with this key, for good.
    private func register(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = SyncController.projectName(context)
        let (user, _) = try await guardian.authorize(request, context: context, project: project, push: false)
        var request = request
        let body = try await request.collectBody(upTo: 16 << 10)
        let registration: Wire.DeviceRegistration
        do {
            registration = try JSONDecoder().decode(Wire.DeviceRegistration.self, from: Data(buffer: body))
        } catch let error as DecodingError {
            throw APIError.badRequest("the device registration is not valid: \(DecodingErrorText.describe(error))")
        }
        guard let node = NodeID(registration.node) else {
            throw APIError.badRequest("'node' must be a node id (1-32 characters 0-9a-f)")
        }
        guard let key = Data(base64Encoded: registration.signingKey), (try? Curve25519.Signing.PublicKey(rawRepresentation: key)) != nil else {
            throw APIError.badRequest("'signingKey' must be an Ed25519 public key: 32 bytes, base64")
        }
        let agreement = try Self.agreement(of: registration, project: project, node: node, signingKey: key)
        try await store.registerDevice(project: project, node: node, owner: user.name, signingKey: key, agreement: agreement, now: settings.clock())
        context.logger.info("device registered", metadata: ["project": "\(project)", "user": "\(user.name)", "node": "\(node)"])
        return try JSONResponse.make(try await deviceList(project))
    }

    /// The registration's agreement key, refused unless the device's own signing key signed it:
    /// nobody else (nor the server) can then give a device an agreement key of theirs.
    static func agreement(of registration: Wire.DeviceRegistration, project: String, node: NodeID, signingKey: Data) throws -> DeviceAgreement? {
        guard registration.agreementKey != nil || registration.agreementSignature != nil else { return nil }
        guard let key = registration.agreementKey.flatMap({ Data(base64Encoded: $0) }), key.count == 32 else {
            throw APIError.badRequest("'agreementKey' must be an X25519 public key: 32 bytes, base64")
        }
        guard let signature = registration.agreementSignature.flatMap({ Data(base64Encoded: $0) }),
              DeviceBinding.holds(project: project, node: node, agreementKey: Array(key), signature: Array(signature), signingKey: Array(signingKey))
        else {
            throw APIError.badRequest("'agreementSignature' must be the device's Ed25519 signature over its agreement key (docs/protocol.md, \"Devices\")")
        }
        return DeviceAgreement(key: key, signature: signature)
    }
}
