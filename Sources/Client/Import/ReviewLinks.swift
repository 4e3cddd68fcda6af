import Foundation
import Shared

/// Links each imported recommendation to its review: the one `--review` names, or the one the file names (a
/// thematic list's header) or the row names (state-under-review, cycle and session columns), found among the
/// replica's reviews or, with `--create-review`, created.
struct ReviewLinks {
    /// The columns that name a row's review rather than a field of it.
    struct Columns {
        static let stateNames: Set<String> = ["state under review", "sur", "to", "country under review", "reviewed state", "state reviewed"]
        static let sessionNames: Set<String> = ["session", "upr session", "wg session", "working group session", "session number"]

        var state: Int?
        var session: Int?

        init(header: [String]) {
            state = header.firstIndex { Self.stateNames.contains(Schema.matchingKey($0)) }
            session = header.firstIndex { Self.sessionNames.contains(Schema.matchingKey($0)) }
        }

        /// Whether a column of this name names the review.
        static func names(_ column: String) -> Bool {
            let key = Schema.matchingKey(column)
            return stateNames.contains(key) || sessionNames.contains(key)
        }
    }

    /// The review `--review` named, every row's.
    let review: String?
    private var linker: ReviewLinker?
    private let columns: Columns
    private let file: ReviewIdentity?
    private let path: String
    private let create: Bool
    private var rowsWithoutReview = 0

    init(importer: CSVImporter, schema: Schema, keyed: Bool, file: ReviewIdentity?, header: [String], editor: inout LocalEditor) throws {
        path = importer.path
        create = importer.createReview
        self.file = file
        columns = Columns(header: header)
        let reviews = schema.report?.reviews ?? "reviews"
        if importer.createReview {
            guard importer.review == nil else { throw ClientError("give --review ID or --create-review, not both") }
            guard keyed else { throw ClientError("--create-review links recommendations to their review: it does not apply to \(importer.collection)") }
        }
        linker = keyed && schema.collection(reviews) != nil ? try ReviewLinker(schema: schema, create: create, editor: editor) : nil
        guard let typed = importer.review else {
            review = nil
            return
        }
        let record = try editor.record(typed)
        guard record.collection == reviews, record.visible else {
            throw ClientError("--review \(typed) is not a record of \(reviews): see 'casebook list \(reviews)'")
        }
        review = record.id
    }

    /// Sets the row's `review` (when the collection has that reference and the row did not give it) and, when the
    /// file or row names its cycle, the row's `cycle`.
    mutating func link(_ values: inout [String: FieldValue], record: CSVReader.Record, collection: CollectionSchema, editor: inout LocalEditor) throws {
        guard collection.field("review")?.type == .reference, values["review"] == nil else { return }
        if let review {
            values["review"] = .reference(review)
            linker?.count(review)
            return
        }
        guard linker != nil else { return }
        var identity = ReviewIdentity()
        if let column = columns.state, !record.cells[column].trimmed.isEmpty { identity.state = record.cells[column].trimmed }
        if let column = columns.session { identity.session = ReviewIdentity.sessionNumber(record.cells[column]) }
        if case .integer(let cycle)? = values["cycle"] { identity.cycle = cycle }
        identity = identity.filled(from: file)
        guard identity.isComplete else {
            rowsWithoutReview += 1
            return
        }
        if let id = try linker?.review(for: identity, editor: &editor) { values["review"] = .reference(id) }
        if values["cycle"] == nil, collection.field("cycle")?.type == .integer, let cycle = identity.effectiveCycle {
            values["cycle"] = .integer(cycle)
        }
    }

    /// Refuses `--create-review` for a file that does not say which review its rows are of.
    func finish() throws {
        guard create, rowsWithoutReview > 0 else { return }
        throw ClientError("'\(path)' does not say which review \(rowsWithoutReview == 1 ? "a row" : "\(rowsWithoutReview) rows") belong to "
                          + "(a thematic list's header such as 'UPR of Slovenia (4th Cycle - 48th Session)', or columns naming the state under "
                          + "review and its cycle or session): pass --review ID of the review instead; nothing was imported")
    }

    /// Which reviews rows were linked to or created, and which reviews the replica lacked.
    func notices() -> [String] { linker?.notices() ?? [] }
}
