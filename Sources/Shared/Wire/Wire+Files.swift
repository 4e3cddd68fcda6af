import Foundation

// Evidence files on the wire (docs/protocol.md, "Evidence files"): the content of an attached file
// travels apart from the change that lists it, in fixed chunks, and each file keeps a custody log.
extension Wire {
    /// The file endpoints' constants.
    package enum Files {
        /// Bytes per chunk: chunk `i` of a file holds bytes `i * chunkSize ..< min((i + 1) * chunkSize, size)`.
        package static let chunkSize = 4 * 1024 * 1024
        /// Most hashes one status request may ask about.
        package static let maxStatusBatch = 1_000
        /// Most custody events one request may carry.
        package static let maxCustodyBatch = 1_000
        /// On a chunk upload: the whole file's size in bytes. On a chunk download: the same, in the response.
        package static let fileSizeHeader = "Casebook-File-Size"
        /// On a chunk upload and download: the SHA-256 of this chunk's bytes, 64 lower-case hex digits.
        package static let chunkHashHeader = "Casebook-Chunk-SHA256"
        /// On a `409` to a chunk upload that is ahead of the next chunk expected: the bytes the server holds.
        package static let receivedHeader = "Casebook-File-Received"

        /// How many chunks a file of `size` bytes has (an empty file has one, empty).
        package static func chunkCount(size: Int64) -> Int64 {
            size == 0 ? 1 : (size + Int64(chunkSize) - 1) / Int64(chunkSize)
        }

        /// The length of chunk `index` of a file of `size` bytes; nil when there is no such chunk.
        package static func chunkLength(index: Int64, size: Int64) -> Int? {
            guard index >= 0, index < chunkCount(size: size) else { return nil }
            return Int(min(Int64(chunkSize), size - index * Int64(chunkSize)))
        }
    }

    /// `POST /v1/projects/{p}/files/status`: which of these files the server holds, and how much of each.
    package struct FileStatusRequest: Codable, Sendable {
        package var files: [String]
        package init(files: [String]) { self.files = files }
    }

    /// What the server holds of one file.
    package struct FileStatus: Codable, Sendable, Equatable {
        package var sha256: String
        /// Bytes received so far, always a whole number of chunks (0 when the server has none).
        package var received: Int64
        /// Whether the whole file is there and hashed to its name.
        package var complete: Bool
        package init(sha256: String, received: Int64, complete: Bool) {
            self.sha256 = sha256
            self.received = received
            self.complete = complete
        }
    }

    /// The answer to a status request, in the request's order.
    package struct FileStatusResponse: Codable, Sendable, Equatable {
        /// The server's chunk size (`Files.chunkSize`); a client that disagrees must not upload.
        package var chunkSize: Int
        package var files: [FileStatus]
        package init(chunkSize: Int = Files.chunkSize, files: [FileStatus]) {
            self.chunkSize = chunkSize
            self.files = files
        }
    }

    /// The answer to `PUT /v1/projects/{p}/files/{sha256}/chunks/{index}`.
    package struct ChunkResponse: Codable, Sendable, Equatable {
        /// Bytes of the file the server now holds.
        package var received: Int64
        /// Whether that chunk completed the file and the whole hashed to its name.
        package var complete: Bool
        package init(received: Int64, complete: Bool) {
            self.received = received
            self.complete = complete
        }
    }

    /// What happened to a file, as its custody log records it.
    package enum CustodyKind: String, Codable, Sendable, CaseIterable {
        /// Attached to a record on a replica (with the record, name, size and the replica's node).
        case added
        /// Its last chunk reached the server, as the uploading replica saw it.
        case uploaded
        /// The server holds it whole and checked its hash (written by the server only).
        case received
        /// Fetched whole into a replica.
        case downloaded
        /// Written out of a replica with `extract` (where to is not recorded).
        case extracted
    }

    /// One entry of a file's custody log. Entries are only ever appended.
    package struct CustodyEvent: Codable, Sendable, Equatable {
        /// Unique per project, chosen by whoever made the event (a replica: its node id and a counter);
        /// sending the same id again is a no-op.
        package var id: String
        package var sha256: String
        package var event: CustodyKind
        /// The user; the server writes the authenticated user's name, whatever a client sends.
        package var by: String
        /// When it happened, by the clock of who made it, milliseconds since the epoch.
        package var at: UInt64
        /// `added`: the record the file was attached to.
        package var record: String?
        /// `added`: the name the file was attached under.
        package var name: String?
        /// `added`: the size in bytes.
        package var size: Int64?
        /// The replica's node id, for events made on a replica.
        package var replica: String?
        /// Assigned by the server: the event's position in the project's custody log.
        package var seq: Int64?
        /// Assigned by the server: when it stored the event, milliseconds since the epoch.
        package var receivedAt: UInt64?

        package init(id: String, sha256: String, event: CustodyKind, by: String, at: UInt64, record: String? = nil,
                     name: String? = nil, size: Int64? = nil, replica: String? = nil, seq: Int64? = nil, receivedAt: UInt64? = nil) {
            self.id = id
            self.sha256 = sha256
            self.event = event
            self.by = by
            self.at = at
            self.record = record
            self.name = name
            self.size = size
            self.replica = replica
            self.seq = seq
            self.receivedAt = receivedAt
        }
    }

    /// `POST /v1/projects/{p}/custody`: events made on a replica.
    package struct CustodyPush: Codable, Sendable {
        package var events: [CustodyEvent]
        package init(events: [CustodyEvent]) { self.events = events }
    }

    /// The answer to a custody push: how many events were new (the rest were already stored).
    package struct CustodyPushResponse: Codable, Sendable, Equatable {
        package var stored: Int
        package init(stored: Int) { self.stored = stored }
    }

    /// `GET /v1/projects/{p}/custody?after=SEQ&limit=N`: the project's custody log after a position.
    package struct CustodyPage: Codable, Sendable, Equatable {
        /// Events ordered by `seq`.
        package var events: [CustodyEvent]
        /// The position to ask after next (the last event's, or the request's).
        package var cursor: Int64
        /// Whether more events follow.
        package var more: Bool
        package init(events: [CustodyEvent], cursor: Int64, more: Bool) {
            self.events = events
            self.cursor = cursor
            self.more = more
        }
    }
}
