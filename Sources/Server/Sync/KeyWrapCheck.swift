import Crypto
import Foundation
import Shared

/// Checks the wraps a member sends before the store keeps them: each is of the named key, for a
/// valid device of a member, and signed by a valid device of the sender (`ProjectKeyWrap`). The
/// server cannot open a wrap; it can refuse one that no member's device made.
struct KeyWrapCheck {
    let project: String
    /// The caller: every wrap must be signed by one of their devices.
    let user: String
    let devices: [Wire.Device]
    let members: Set<String>

    /// Most wraps one request may carry.
    static let maxWraps = 1_000

    /// The wraps, or an error that names the first problem.
    func check(_ wraps: [Wire.KeyWrap], keyID: String) throws {
        guard ProjectKeyID.isValid(keyID) else { throw APIError.badRequest("a key id is 16 characters 0-9a-f, not '\(keyID.prefix(40))'") }
        guard !wraps.isEmpty, wraps.count <= Self.maxWraps else {
            throw APIError.badRequest("send 1 to \(Self.maxWraps) wraps of the key, not \(wraps.count)")
        }
        let byNode = Dictionary(devices.map { ($0.node, $0) }, uniquingKeysWith: { first, _ in first })
        for wrap in wraps {
            guard wrap.keyID == keyID else {
                throw APIError.unprocessable("a wrap of key \(wrap.keyID.prefix(16)) was sent for key \(keyID): send each key's wraps on their own", code: "bad_wrap")
            }
            guard let recipient = byNode[wrap.node], recipient.revokedAt == nil, members.contains(recipient.owner) else {
                throw APIError.forbidden("device \(wrap.node.prefix(32)) is not a valid device of a member of '\(project)': a key goes only to members' devices")
            }
            guard let granter = byNode[wrap.granter], granter.owner == user, granter.revokedAt == nil,
                  let raw = Data(base64Encoded: granter.signingKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
                throw APIError.forbidden("the wrap of key \(keyID) for \(wrap.node.prefix(32)) names granting device \(wrap.granter.prefix(32)), which is not a valid device of yours")
            }
            guard ProjectKeyWrap.verify(wrap, project: project, granterKey: key) else {
                throw APIError.forbidden("the wrap of key \(keyID) for \(wrap.node.prefix(32)) is not signed by the granting device \(wrap.granter.prefix(32)): it was altered or forged")
            }
        }
    }
}
