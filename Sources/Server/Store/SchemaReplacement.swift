import Foundation
import Shared

/// Replacing a project's schema with a new version (`casebook-server project schema`): what
/// differs, how many records each difference touches, and why it is refused, if it is.
struct SchemaReplacement: Sendable {
    /// The project's schema before.
    var old: Schema
    /// The version offered.
    var new: Schema
    /// The differences, and the problems no data can make acceptable.
    var evolution: SchemaEvolution
    /// Each difference with the live records it touches (nil where a count means nothing).
    var touched: [(step: SchemaEvolution.Step, records: Int?)]
    /// Every reason the new version is refused: the evolution's problems, then the data's.
    var refusals: [String]
    /// Whether the store now serves the new version.
    var applied = false

    /// The replacement of `old` by `new`, checked against `records` (read as
    /// `SchemaEvolution.fieldsToRead(old:)` asks; none needed when the evolution has problems).
    init(old: Schema, new: Schema, evolution: SchemaEvolution, records: [SchemaRecord]) {
        self.old = old
        self.new = new
        self.evolution = evolution
        touched = evolution.touched(old: old, records: records)
        refusals = evolution.problems + evolution.refusals(old: old, records: records)
    }

    /// Whether the store may serve the new version.
    var acceptable: Bool { refusals.isEmpty }
}

/// A project as `casebook-server project list` and `project show` describe it.
struct ProjectSummary: Sendable, Codable, Equatable {
    /// One member and their role.
    struct Member: Sendable, Codable, Equatable {
        var name: String
        var role: String
        /// Whether an admin revoked the user (their tokens no longer work).
        var revoked: Bool
    }

    var name: String
    var schema: String
    var schemaVersion: Int
    /// Records by collection (deleted ones included: a deletion is an edit, kept in history).
    var records: [String: Int]
    var members: [Member]
    var groups: [GroupInfo]
}
