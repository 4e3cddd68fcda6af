import Foundation

/// One record of a bundle's plaintext: a kind and its bytes. Records follow one another as
/// kind (1 byte) ‖ length (4, BE) ‖ payload, across chunk boundaries; the signature comes last.
package struct BundleRecord: Sendable, Equatable {
    /// What a record holds.
    package enum Kind: UInt8, Sendable {
        /// The header (`BundleHeader` as JSON): always first.
        case header = 0x48
        /// A signed batch (JSON, the wire form).
        case batch = 0x42
        /// A change (`BundleChange` as JSON).
        case change = 0x43
        /// A custody event (JSON, the wire form).
        case custody = 0x4b
        /// The start of an attached file's content (`BundleFile` as JSON); its data records follow.
        case file = 0x46
        /// Up to one chunk of the current file's content, raw.
        case fileData = 0x44
        /// The creating device's Ed25519 signature (64 bytes): always last.
        case signature = 0x53
    }

    /// The most bytes one record may hold (a long text change as JSON fits many times over).
    package static let maxLength = 64 << 20

    /// The record's kind.
    package var kind: Kind
    /// Its payload.
    package var payload: [UInt8]

    /// A record.
    package init(_ kind: Kind, _ payload: [UInt8]) {
        self.kind = kind
        self.payload = payload
    }

    /// The record as it is written into the plaintext stream.
    var framed: [UInt8] {
        [kind.rawValue] + BundleFormat.bigEndian32(UInt32(payload.count)) + payload
    }
}

/// A bundle's header record: who made it, for which project, and the log values its maker verified.
package struct BundleHeader: Codable, Sendable, Equatable {
    /// A value of the project log's hash chain that the bundle's maker verified, at a sequence number.
    package struct Verified: Codable, Sendable, Equatable {
        /// The sequence number.
        package var seq: Int64
        /// The chain's value there, 64 hex digits.
        package var chain: String
        /// A verified value.
        package init(seq: Int64, chain: String) {
            self.seq = seq
            self.chain = chain
        }
    }

    /// The project the bundle's content belongs to.
    package var project: String
    /// The node (device) that made and signed it.
    package var creator: String
    /// The user that device belongs to.
    package var author: String
    /// When it was made, milliseconds since the epoch, by the maker's clock.
    package var createdAt: UInt64
    /// The last chain values its maker verified, newest first (its head first); empty before its first sync.
    package var verified: [Verified]

    /// A header.
    package init(project: String, creator: String, author: String, createdAt: UInt64, verified: [Verified] = []) {
        self.project = project
        self.creator = creator
        self.author = author
        self.createdAt = createdAt
        self.verified = verified
    }
}

/// A change as a bundle carries it.
package struct BundleChange: Codable, Sendable, Equatable {
    /// The change, author included (its digest is what its batch signs).
    package var change: Change
    /// Its sequence number on the server, when its maker knows it.
    package var seq: Int64?
    /// When the maker received it, milliseconds since the epoch.
    package var receivedAt: UInt64
    /// The server may not hold it yet: whoever receives it relays it at their next sync.
    package var relay: Bool

    /// A change as carried.
    package init(change: Change, seq: Int64?, receivedAt: UInt64, relay: Bool) {
        self.change = change
        self.seq = seq
        self.receivedAt = receivedAt
        self.relay = relay
    }
}

/// The start of an attached file's content in a bundle.
package struct BundleFile: Codable, Sendable, Equatable {
    /// Its SHA-256, lower-case hex: the receiver checks the content against it.
    package var sha256: String
    /// Its size in bytes.
    package var size: Int64

    /// A file as carried.
    package init(sha256: String, size: Int64) {
        self.sha256 = sha256
        self.size = size
    }
}
