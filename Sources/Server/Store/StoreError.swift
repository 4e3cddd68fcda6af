import Foundation

/// A storage failure, with a message that says what to do. The HTTP layer turns it into a status
/// and a JSON body (`StoreError+HTTPResponseError.swift`); admin commands print the message.
enum StoreError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case conflict(String)
    case unavailable(String)
    /// The disk (or the database) is full: nothing of the request was kept.
    case insufficientStorage(String)

    var description: String {
        switch self {
        case .notFound(let message), .conflict(let message), .unavailable(let message), .insufficientStorage(let message): message
        }
    }

    /// The database is busy or locked by another writer.
    static let busy = StoreError.unavailable("the database is busy: try again in a moment")

    /// A pull after a sequence number the log never reached: the server lost history (restored
    /// from an older backup, or replaced). Answering with an empty page would hide every change
    /// numbered up to the replica's cursor from it forever, so the pull is refused instead.
    static func cursorAhead(after: Int64, latest: Int64) -> StoreError {
        .conflict("this replica has pulled the change log up to \(after), but the server's log ends at \(latest): "
                  + "the server was restored from an older backup or replaced. Nothing is lost on this replica: "
                  + "export what it holds, then start a new replica with 'casebook init' (see docs/deployment.md, Backups)")
    }
}

/// A store found its own data inconsistent (a defect, not the client's fault): the transaction is
/// rolled back and the request answered 500, with this in the log.
struct StoreDefect: Error, CustomStringConvertible {
    let description: String
}
