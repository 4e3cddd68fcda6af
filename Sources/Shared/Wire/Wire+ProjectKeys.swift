import Foundation

extension Wire {
    /// A project key wrapped for one device (`ProjectKeyWrap`), signed by the device that granted it.
    package struct KeyWrap: Codable, Sendable, Equatable {
        /// The project key's id.
        package var keyID: String
        /// The device it is wrapped for.
        package var node: String
        /// Ephemeral X25519 public key, nonce, ciphertext and tag, base64.
        package var wrapped: String
        /// The device that wrapped it.
        package var granter: String
        /// The granting device's Ed25519 signature (`ProjectKeyWrap.message`), base64.
        package var signature: String

        package init(keyID: String, node: String, wrapped: String, granter: String, signature: String) {
            self.keyID = keyID
            self.node = node
            self.wrapped = wrapped
            self.granter = granter
            self.signature = signature
        }
    }

    /// One project key as the server knows it: never its bytes.
    package struct ProjectKeyInfo: Codable, Sendable, Equatable {
        package var id: String
        /// The user whose device created it.
        package var createdBy: String
        package var createdAt: UInt64
        /// The users with a wrap of it for a device of theirs: who can grant it.
        package var holders: [String]

        package init(id: String, createdBy: String, createdAt: UInt64, holders: [String]) {
            self.id = id
            self.createdBy = createdBy
            self.createdAt = createdAt
            self.holders = holders
        }
    }

    /// `GET /v1/projects/{p}/keys`, and the answer to creating or granting one: the project's keys
    /// (oldest first; the last is current) and the wraps made for the caller's devices.
    package struct ProjectKeys: Codable, Sendable, Equatable {
        package var keys: [ProjectKeyInfo]
        package var wraps: [KeyWrap]
        /// The project's members (users not revoked): the only owners whose devices may receive a key.
        package var members: [String]
        /// Whether the `POST .../keys` that answered made its key current (false: another came first).
        package var created: Bool?

        package init(keys: [ProjectKeyInfo], wraps: [KeyWrap], members: [String], created: Bool? = nil) {
            self.keys = keys
            self.wraps = wraps
            self.members = members
            self.created = created
        }

        /// The key new values are sealed with: the latest.
        package var current: ProjectKeyInfo? { keys.last }
    }

    /// `POST /v1/projects/{p}/keys`: a new key, wrapped for the creator's devices. `previous` is the
    /// current key it replaces (nil for the project's first); the server makes it current only if
    /// `previous` still is, so of two members creating or rotating at once, one wins.
    package struct KeyCreation: Codable, Sendable, Equatable {
        package var id: String
        package var previous: String?
        package var wraps: [KeyWrap]

        package init(id: String, previous: String?, wraps: [KeyWrap]) {
            self.id = id
            self.previous = previous
            self.wraps = wraps
        }
    }

    /// `POST /v1/projects/{p}/keys/{id}/wraps`: copies of a key for other devices (`casebook grant`).
    package struct KeyGrant: Codable, Sendable, Equatable {
        package var wraps: [KeyWrap]

        package init(wraps: [KeyWrap]) { self.wraps = wraps }
    }
}
