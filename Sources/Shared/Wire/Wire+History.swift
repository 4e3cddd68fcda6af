import Foundation

extension Wire {
    /// `POST /v1/projects/{p}/history`: the stored versions a replica needs to merge fields whose
    /// concurrent values combine automatically (long text), as the server's own merge reads them.
    /// A replica that joined from a snapshot holds only the heads; it asks for the rest here.
    package struct HistoryRequest: Codable, Sendable, Equatable {
        /// One field to merge: its record and name, and the heads the replica holds.
        package struct Field: Codable, Sendable, Equatable {
            package var record: String
            package var field: String
            package var heads: [HLC]

            package init(record: String, field: String, heads: [HLC]) {
                self.record = record
                self.field = field
                self.heads = heads
            }
        }

        /// Most fields one request may name.
        package static let maxFields = 100

        package var fields: [Field]
        package init(fields: [Field]) { self.fields = fields }
    }

    /// The answer to a history request: every stored version the merge of the first `answered`
    /// fields reads (heads included), ordered by HLC. The server stops after the field that fills
    /// its page budget (at least one field is always answered); the replica asks again for the rest.
    package struct HistoryResponse: Codable, Sendable, Equatable {
        package var changes: [LoggedChange]
        package var answered: Int
        package var serverTime: UInt64
        /// The signed batches that hold the changes, as in a pull page.
        package var batches: [SignedBatch]
        /// As `PullResponse.unsignedUpTo`.
        package var unsignedUpTo: Int64?

        package init(changes: [LoggedChange], answered: Int, serverTime: UInt64, batches: [SignedBatch] = [], unsignedUpTo: Int64? = nil) {
            self.changes = changes
            self.answered = answered
            self.serverTime = serverTime
            self.batches = batches
            self.unsignedUpTo = unsignedUpTo
        }

        private enum CodingKeys: String, CodingKey { case changes, answered, serverTime, batches, unsignedUpTo }

        // Servers before signatures send neither `batches` nor `unsignedUpTo`.
        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(changes: try container.decode([LoggedChange].self, forKey: .changes),
                      answered: try container.decode(Int.self, forKey: .answered),
                      serverTime: try container.decode(UInt64.self, forKey: .serverTime),
                      batches: try container.decodeIfPresent([SignedBatch].self, forKey: .batches) ?? [],
                      unsignedUpTo: try container.decodeIfPresent(Int64.self, forKey: .unsignedUpTo))
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(changes, forKey: .changes)
            try container.encode(answered, forKey: .answered)
            try container.encode(serverTime, forKey: .serverTime)
            if !batches.isEmpty { try container.encode(batches, forKey: .batches) }
            try container.encodeIfPresent(unsignedUpTo, forKey: .unsignedUpTo)
        }
    }
}
