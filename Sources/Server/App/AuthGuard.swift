import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Checks bearer tokens and project membership.
struct AuthGuard: Sendable {
    let store: any SyncStore
    let throttle: AuthThrottle
    /// Addresses of reverse proxies whose X-Forwarded-For header is believed.
    var trustedProxies: Set<String> = []

    /// The address failures are counted under: the peer's own, or, when the peer is a trusted
    /// reverse proxy, the client the proxies report: the rightmost X-Forwarded-For entry that is
    /// not itself a trusted proxy (entries further left are whatever the client claimed).
    static func clientKey(peer: String, forwardedFor: String?, trustedProxies: Set<String>) -> String {
        guard trustedProxies.contains(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return hops.last { !trustedProxies.contains($0) }.map { String($0.prefix(64)) } ?? peer
    }

    static func notMemberMessage(_ project: String) -> String {
        "you are not a member of project '\(project)' (or it does not exist): ask its admin to add you"
    }

    static func badNameMessage(_ project: String) -> String {
        "'\(project.prefix(64))' is not a project name: names are \(ProjectName.rule)"
    }

    /// The user and their membership, or 401 (429 while the address has too many failures waiting),
    /// then 400 for a name no project can have, then 403.
    ///
    /// The token is checked first and only a failure is slowed down: guessers at an address never
    /// delay a valid token from it.
    func authorize(_ request: Request, context: AppRequestContext, project: String, push: Bool) async throws -> (AuthenticatedUser, Membership) {
        let forwarded = HTTPField.Name("X-Forwarded-For").flatMap { request.headers[values: $0] }?.joined(separator: ",")
        let peer = Self.clientKey(peer: context.peerKey, forwardedFor: forwarded, trustedProxies: trustedProxies)
        guard let header = request.headers[.authorization] else {
            throw await failure(peer, context, APIError.unauthorized("this endpoint needs a token: send 'Authorization: Bearer TOKEN'"))
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty, parts[1].utf8.count <= 256 else {
            throw await failure(peer, context, APIError.unauthorized("the Authorization header must be 'Bearer TOKEN'"))
        }
        guard let user = try await store.authenticate(tokenHash: TokenHasher.hash(String(parts[1]))) else {
            throw await failure(peer, context, APIError.unauthorized("the token is not valid (wrong, or revoked): ask your admin for a new one"))
        }
        await throttle.succeeded(peer)
        // The name is checked after the token, so that a caller without one learns nothing from the path.
        guard ProjectName.isValid(project) else { throw APIError.badRequest(Self.badNameMessage(project)) }
        guard let membership = try await store.membership(userID: user.id, project: project) else {
            throw APIError.forbidden(Self.notMemberMessage(project))
        }
        if push && !membership.role.canPush {
            throw APIError.forbidden("'\(user.name)' is a viewer of '\(project)': viewers may pull but not push; ask the admin for the researcher role")
        }
        return (user, membership)
    }

    /// Records a failed authentication and returns what to answer, after the throttle's wait: the
    /// 401, or a 429 with the time to wait when the address already has too many failures waiting.
    private func failure(_ peer: String, _ context: AppRequestContext, _ error: APIError) async -> APIError {
        switch await throttle.failed(peer) {
        case .wait(let wait):
            // Logged once, at the first failure that waits (`freeFailures` may be Int.max: no `+ 1`).
            if await throttle.failures(peer) - 1 == throttle.policy.freeFailures {
                context.logger.warning("repeated failed authentication: slowing down this address", metadata: ["peer": "\(peer)"])
            }
            guard wait > .zero else { return error }
            try? await Task.sleep(for: wait)
            await throttle.doneWaiting(peer)
            return error
        case .refuse(let retryAfter):
            return APIError.throttled(retryAfter: retryAfter)
        }
    }
}
