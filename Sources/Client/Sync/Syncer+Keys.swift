import Crypto
import Foundation
import Shared

/// Wraps project keys for devices, signed by this device (`ProjectKeyWrap`).
struct KeyWrapper {
    let project: String
    let signer: BatchSigner

    /// One wrap of `key` for each device.
    func wraps(of key: SymmetricKey, id: String, for devices: [NodeID: Curve25519.KeyAgreement.PublicKey]) throws -> [Wire.KeyWrap] {
        try devices.sorted { $0.key < $1.key }.map { node, agreement in
            try ProjectKeyWrap.wrap(key, keyID: id, project: project, node: node, recipient: agreement, granter: signer.node, signingKey: signer.key)
        }
    }
}

extension Syncer {
    /// Brings the project keys up to date before the push (docs/security.md, "Sensitive fields"): offers
    /// a key made here for a first sensitive edit (the first offer the server gets wins), opens the wraps
    /// made for this device (each must be signed by a member's device), and re-seals pending edits
    /// sealed with a key the project did not adopt. Nothing for a transport without signatures, nor for
    /// a schema without sensitive fields. Unless `always`, only when this replica needs it
    /// (`Replica.needsKeys`), so that a no-op sync stays one request. Whether it asked the server.
    @discardableResult
    /// `schema` is the replica's (a sync that adopted a newer version passes that one).
    func syncKeys(signer: BatchSigner?, always: Bool = true, pulled: Set<String> = [], schema: Schema? = nil) async throws -> Bool {
        let schema = schema ?? settings.schema
        guard let signer, schema.collections.contains(where: { $0.fields.contains(where: \.sensitive) }) else { return false }
        var needed = always
        if !needed { needed = try await replica.needsKeys(pulled: pulled) }
        guard needed, var answer = try await client.projectKeys() else { return false }
        let ring = try await replica.keyRing()
        var settled: [String: ProjectKeyRing.State] = [:]
        if let local = ring.keys(in: .local).first {
            if answer.keys.isEmpty {
                let wraps = try KeyWrapper(project: settings.project, signer: signer).wraps(of: local.key, id: local.id, for: try await ownDevices())
                answer = try await client.createKey(Wire.KeyCreation(id: local.id, previous: nil, wraps: wraps))
            }
            settled[local.id] = answer.current?.id == local.id ? .held : .lost
        }
        let opened = try await openWraps(answer.wraps.filter { $0.node == settings.node.rawValue && ring.secret($0.keyID) == nil })
        try await replica.adoptKeys(answer, opened: opened, settled: settled, project: settings.project, schema: schema)
        return true
    }

    /// The ids of the keys that sealed the sensitive values among `changes`.
    static func sealedKeyIDs(_ changes: [Wire.LoggedChange], schema: Schema) -> Set<String> {
        var ids = Set<String>()
        for logged in changes {
            guard case .text(let text) = logged.change.value, text.hasPrefix(SealedValue.prefix),
                  schema.collection(logged.change.collection)?.field(logged.change.field)?.sensitive == true,
                  let sealed = SealedValue(text: text) else { continue }
            ids.insert(sealed.keyID)
        }
        return ids
    }

    /// The agreement keys of this user's devices: this one's own, and the others' as last fetched.
    func ownDevices() async throws -> [NodeID: Curve25519.KeyAgreement.PublicKey] {
        var devices = try await replica.agreementKeys().filter { $0.value.owner == settings.user }.mapValues(\.key)
        devices[settings.node] = try await replica.agreementKey().publicKey
        return devices
    }

    /// The keys inside wraps made for this device, each checked against the signing key of the member's
    /// device that made it; a wrap no member's device signed is refused, and the sync with it.
    private func openWraps(_ wraps: [Wire.KeyWrap]) async throws -> [String: Data] {
        guard !wraps.isEmpty else { return [:] }
        var devices = try await replica.knownDevices()
        if wraps.contains(where: { NodeID($0.granter).map { devices[$0] == nil } ?? true }), let fetched = try await client.devices() {
            try await replica.storeDevices(fetched)
            devices = try await replica.knownDevices()
        }
        let agreement = try await replica.agreementKey()
        var opened: [String: Data] = [:]
        for wrap in wraps {
            guard let granter = NodeID(wrap.granter).flatMap({ devices[$0] }),
                  let key = try? Curve25519.Signing.PublicKey(rawRepresentation: granter.key),
                  ProjectKeyWrap.verify(wrap, project: settings.project, granterKey: key) else {
                throw ClientError("the project key \(wrap.keyID.prefix(16)) offered to this device is not signed by a device of the project's members: "
                                  + "it was refused, and the server's copy of the keys may have been tampered with; tell your project's admin")
            }
            do {
                let key = try ProjectKeyWrap.open(wrap, project: settings.project, node: settings.node, privateKey: agreement)
                opened[wrap.keyID] = key.withUnsafeBytes { Data($0) }
            } catch {
                throw ClientError("\(error.message): it was refused; ask \(granter.owner) to grant it again ('casebook grant \(settings.user)')")
            }
        }
        return opened
    }
}
