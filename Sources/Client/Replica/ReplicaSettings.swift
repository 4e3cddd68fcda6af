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
    var caCertificate: String?
    var insecure: Bool

    /// How to reach the server.
    var address: ServerAddress { ServerAddress(url: server, caCertificate: caCertificate) }

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
        caCertificate = try Setting.get(.caCertificate, db)
        insecure = try Setting.get(.insecure, db) == "1"
    }
}
