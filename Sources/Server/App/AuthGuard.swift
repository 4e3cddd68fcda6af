import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Checks bearer tokens and project membership.
struct AuthGuard: Sendable {
    let store: any SyncStore
    let throttle: AuthThrottle

    static func notMemberMessage(_ project: String) -> String {
        "you are not a member of project '\(project)' (or it does not exist): ask its admin to add you"
    }

    /// The user and their membership, or 401/403.
    func authorize(_ request: Request, context: AppRequestContext, project: String, push: Bool) async throws -> (AuthenticatedUser, Membership) {
        let peer = context.peerKey
        let wait = await throttle.reserve(peer)
        if wait > .zero { try await Task.sleep(for: wait) }
        guard let header = request.headers[.authorization] else {
            await throttle.failed(peer)
            throw APIError.unauthorized("this endpoint needs a token: send 'Authorization: Bearer TOKEN'")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty, parts[1].utf8.count <= 256 else {
            await throttle.failed(peer)
            throw APIError.unauthorized("the Authorization header must be 'Bearer TOKEN'")
        }
        guard let user = try await store.authenticate(tokenHash: TokenHasher.hash(String(parts[1]))) else {
            await throttle.failed(peer)
            if await throttle.failures(peer) == throttle.policy.freeFailures {
                context.logger.warning("repeated failed authentication: slowing down this address", metadata: ["peer": "\(peer)"])
            }
            throw APIError.unauthorized("the token is not valid (wrong, or revoked): ask your admin for a new one")
        }
        await throttle.succeeded(peer)
        guard let membership = try await store.membership(userID: user.id, project: project) else {
            throw APIError.forbidden(Self.notMemberMessage(project))
        }
        if push && !membership.role.canPush {
            throw APIError.forbidden("'\(user.name)' is a viewer of '\(project)': viewers may pull but not push; ask the admin for the researcher role")
        }
        return (user, membership)
    }
}
