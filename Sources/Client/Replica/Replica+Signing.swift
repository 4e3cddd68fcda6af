import Crypto
import Foundation
import GRDB
import Shared

/// This replica's device key and what it knows of the project's signatures (docs/protocol.md,
/// "Signatures"). The private key is a setting: inside the encrypted database, like the token.
extension Replica {
    /// A new device key, as the setting stores it.
    static func newSigningKey() -> String {
        Curve25519.Signing.PrivateKey().rawRepresentation.base64EncodedString()
    }

    /// The replica's signing key, made now when it has none (replicas from before signatures), and
    /// whether the server has registered it.
    func signingKey() async throws -> (key: [UInt8], registered: Bool) {
        try await write { db in
            var text = try Setting.get(.signingKey, db)
            if text == nil {
                text = Replica.newSigningKey()
                try Setting.set(.signingKey, text, db)
            }
            guard let raw = text.flatMap({ Data(base64Encoded: $0) }), raw.count == 32 else {
                throw ClientError("the replica's signing key is damaged: start a new replica with 'casebook init'")
            }
            return (Array(raw), try Setting.get(.deviceRegistered, db) == "1")
        }
    }

    /// Records that the server registered the key.
    func markRegistered() async throws {
        try await write { db in try Setting.set(.deviceRegistered, "1", db) }
    }

    /// A new agreement key, as the setting stores it.
    static func newAgreementKey() -> String {
        Curve25519.KeyAgreement.PrivateKey().rawRepresentation.base64EncodedString()
    }

    /// The replica's X25519 agreement key, made now when it has none (replicas from before agreement keys).
    func agreementKey() async throws -> Curve25519.KeyAgreement.PrivateKey {
        let raw = try await write { db in
            var text = try Setting.get(.agreementKey, db)
            if text == nil {
                text = Replica.newAgreementKey()
                try Setting.set(.agreementKey, text, db)
            }
            return text.flatMap { Data(base64Encoded: $0) }
        }
        guard let raw, let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw) else {
            throw ClientError("the replica's agreement key is damaged: start a new replica with 'casebook init'")
        }
        return key
    }

    /// Whether the server holds the replica's agreement key.
    func agreementRegistered() async throws -> Bool {
        try await read { db in try Setting.get(.agreementRegistered, db) == "1" }
    }

    /// Records that the server holds the agreement key.
    func markAgreementRegistered() async throws {
        try await write { db in try Setting.set(.agreementRegistered, "1", db) }
    }

    /// The registration of this device: its signing key and its agreement key, bound by a signature.
    static func registration(project: String, node: NodeID, signingKey: Curve25519.Signing.PrivateKey,
                             agreementKey: Curve25519.KeyAgreement.PrivateKey) throws -> Wire.DeviceRegistration {
        let signature = try DeviceBinding.sign(project: project, node: node, agreementKey: agreementKey.publicKey, with: signingKey)
        return Wire.DeviceRegistration(node: node.rawValue, signingKey: signingKey.publicKey.rawRepresentation.base64EncodedString(),
                                       agreementKey: agreementKey.publicKey.rawRepresentation.base64EncodedString(),
                                       agreementSignature: Data(signature).base64EncodedString())
    }

    /// The agreement keys of the project's unrevoked devices as last fetched, each one signed by
    /// its device's signing key (checked when stored).
    func agreementKeys() async throws -> [NodeID: (owner: String, key: Curve25519.KeyAgreement.PublicKey)] {
        let rows = try await read { db in
            try Row.fetchAll(db, sql: "SELECT node, owner, agreement_key FROM device WHERE agreement_key IS NOT NULL AND revoked_at IS NULL")
                .map { (node: $0[0] as String, owner: $0[1] as String, key: $0[2] as Data) }
        }
        var keys: [NodeID: (owner: String, key: Curve25519.KeyAgreement.PublicKey)] = [:]
        for row in rows {
            if let node = NodeID(row.node), let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: row.key) {
                keys[node] = (row.owner, key)
            }
        }
        return keys
    }

    /// Replaces the copy of the project's devices. An agreement key is kept only when the
    /// device's own signing key signed it: one the server made up is never used.
    func storeDevices(_ devices: [Wire.Device]) async throws {
        try await write { db in
            let project = try Setting.get(.project, db) ?? ""
            try db.execute(sql: "DELETE FROM device")
            for device in devices {
                guard let key = Data(base64Encoded: device.signingKey) else { continue }
                let agreement = DeviceBinding.verifiedAgreementKey(of: device, project: project)
                try db.execute(sql: """
                    INSERT OR REPLACE INTO device (node, owner, signing_key, revoked_at, agreement_key, agreement_signature) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [device.node, device.owner, key, device.revokedAt.map { Int64($0) },
                                     agreement.map { $0.rawRepresentation }, agreement == nil ? nil : device.agreementSignature.flatMap { Data(base64Encoded: $0) }])
            }
        }
    }

    /// The devices as the replica last fetched them.
    func knownDevices() async throws -> [NodeID: SignatureCheck.Device] {
        try await read { db in try Replica.knownDevices(db) }
    }

    /// The devices as the replica last fetched them, for checking signatures.
    static func knownDevices(_ db: Database) throws -> [NodeID: SignatureCheck.Device] {
        var devices: [NodeID: SignatureCheck.Device] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT node, owner, signing_key FROM device") {
            if let node = NodeID(row[0] as String) { devices[node] = .init(owner: row[1], key: Array(row[2] as Data)) }
        }
        return devices
    }

    /// Stores batches this replica sent or received (one it holds already is the same batch).
    static func storeBatches(_ batches: [SignedBatch], _ db: Database) throws {
        guard !batches.isEmpty else { return }
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO batch (id, node, digests, signature) VALUES (?, ?, ?, ?)")
        for batch in batches {
            try insert.execute(arguments: [batch.id, batch.node.rawValue, Data(ChangeDigest.pack(batch.digests)), Data(batch.signature)])
        }
    }

    /// Stores the batches of a push before it is sent.
    func storeBatches(_ batches: [SignedBatch]) async throws {
        try await write { db in try Replica.storeBatches(batches, db) }
    }

    /// Every batch the replica holds.
    static func storedBatches(_ db: Database) throws -> [SignedBatch] {
        try Row.fetchAll(db, sql: "SELECT id, node, digests, signature FROM batch").compactMap { row in
            guard let node = NodeID(row[1] as String), let digests = ChangeDigest.unpack(row[2] as Data) else { return nil }
            return SignedBatch(id: row[0], node: node, digests: digests, signature: Array(row[3] as Data))
        }
    }

    /// The pinned end of the project's unsigned changes, nil before the first page that said it.
    func unsignedUpTo() async throws -> Int64? {
        try await read { db in try Setting.get(.unsignedUpTo, db).flatMap { Int64($0) } }
    }

    /// Pins the end of the project's unsigned changes.
    func pinUnsignedUpTo(_ seq: Int64) async throws {
        try await write { db in try Setting.set(.unsignedUpTo, String(seq), db) }
    }
}
