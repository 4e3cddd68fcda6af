import Foundation
import GRDB
import Shared

/// The settings a command needs, read once.
struct ReplicaSettings: Sendable {
    var server: URL
    var project: String
    var user: String
    var role: String
    var node: NodeID
    var schema: Schema
    var certificateAuthority: ServerAddress.CertificateAuthority?
    /// The server keys this replica accepts; nil when the stored list is damaged.
    var pins: ServerKeyPins?
    var insecure: Bool

    /// How to reach the server, and whom to trust there.
    func address() throws -> ServerAddress {
        guard let pins else {
            throw ClientError("the replica's pinned server key is damaged: run 'casebook pin sha256:...' with the fingerprint your team gave you")
        }
        return ServerAddress(url: server, certificateAuthority: certificateAuthority, pins: pins)
    }

    init(_ db: Database) throws {
        func required(_ key: Setting) throws -> String {
            guard let value = try Setting.get(key, db) else {
                throw ClientError("the replica's settings are incomplete (\(key.rawValue) is missing): run 'casebook init' in a new --home")
            }
            return value
        }
        guard let server = URL(string: try required(.server)) else { throw ClientError("the replica's server URL is damaged: run 'casebook init' in a new --home") }
        self.server = server
        project = try required(.project)
        user = try required(.user)
        role = try required(.role)
        guard let node = NodeID(try required(.node)) else { throw ClientError("the replica's node id is damaged") }
        self.node = node
        schema = try Schema.fromJSON(Data(try required(.schema).utf8))
        if let pem = try Setting.get(.caCertificatePEM, db) {
            certificateAuthority = .pem(pem)
        } else {
            certificateAuthority = try Setting.get(.caCertificate, db).map { .file($0) }
        }
        if let stored = try Setting.get(.serverKeys, db) {
            pins = ServerKeyPins(stored: stored)
        } else {
            pins = ServerKeyPins()
        }
        insecure = try Setting.get(.insecure, db) == "1"
    }
}
