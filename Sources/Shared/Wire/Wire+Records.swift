import Foundation

extension Wire {
    /// `POST /v1/projects/{p}/records`: the whole stored history of records a pull page named as
    /// `granted` (the puller may read them now, and its cursor passed their earlier changes).
    package struct RecordsRequest: Codable, Sendable, Equatable {
        /// Most records one request may name.
        package static let maxRecords = 100

        package var records: [String]
        package init(records: [String]) { self.records = records }
    }

    /// Every stored change of the records asked that the caller may read, each record oldest first;
    /// a record they may not read gives none, like one that does not exist. With the signed batches
    /// that hold them, as a pull page has.
    package struct RecordsResponse: Codable, Sendable, Equatable {
        package var changes: [LoggedChange]
        package var serverTime: UInt64
        /// The signed batches that hold the changes, as in a pull page.
        package var batches: [SignedBatch]
        /// As `PullResponse.unsignedUpTo`.
        package var unsignedUpTo: Int64?

        package init(changes: [LoggedChange], serverTime: UInt64, batches: [SignedBatch] = [], unsignedUpTo: Int64? = nil) {
            self.changes = changes
            self.serverTime = serverTime
            self.batches = batches
            self.unsignedUpTo = unsignedUpTo
        }

        private enum CodingKeys: String, CodingKey { case changes, serverTime, batches, unsignedUpTo }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(changes: try container.decode([LoggedChange].self, forKey: .changes),
                      serverTime: try container.decode(UInt64.self, forKey: .serverTime),
                      batches: try container.decodeIfPresent([SignedBatch].self, forKey: .batches) ?? [],
                      unsignedUpTo: try container.decodeIfPresent(Int64.self, forKey: .unsignedUpTo))
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(changes, forKey: .changes)
            try container.encode(serverTime, forKey: .serverTime)
            if !batches.isEmpty { try container.encode(batches, forKey: .batches) }
            try container.encodeIfPresent(unsignedUpTo, forKey: .unsignedUpTo)
        }
    }
}
