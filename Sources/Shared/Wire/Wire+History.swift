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

        package init(changes: [LoggedChange], answered: Int, serverTime: UInt64) {
            self.changes = changes
            self.answered = answered
            self.serverTime = serverTime
        }
    }
}
