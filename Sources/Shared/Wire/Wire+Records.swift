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
    /// a record they may not read gives none, like one that does not exist.
    package struct RecordsResponse: Codable, Sendable, Equatable {
        package var changes: [LoggedChange]
        package var serverTime: UInt64

        package init(changes: [LoggedChange], serverTime: UInt64) {
            self.changes = changes
            self.serverTime = serverTime
        }
    }
}
