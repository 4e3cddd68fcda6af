import Foundation

/// The collections `casebook report` reads, by the part each plays: the schema's optional `report` section.
///
/// The report reads these fields of them, and counts a record without one as unknown:
/// recommendations `review`, `text`, `response`, `status`, `themes`, `recommending_state`;
/// reviews `state`, `cycle`, `date`; assessments `recommendation`, `assessor_type` (`state` or `ngo`),
/// `status`, `date`.
package struct ReportRoles: Codable, Sendable, Hashable {
    /// The collection of recommendations it counts.
    package var recommendations: String
    /// The collection of reviews it groups them by.
    package var reviews: String
    /// The collection of assessments whose latest state claim and NGO finding it compares.
    package var assessments: String

    /// Roles naming these collections.
    package init(recommendations: String, reviews: String, assessments: String) {
        self.recommendations = recommendations
        self.reviews = reviews
        self.assessments = assessments
    }

    /// Refuses a role naming a collection that `schema` does not define.
    func check(in schema: Schema) throws(SchemaError) {
        for (role, name) in [("recommendations", recommendations), ("reviews", reviews), ("assessments", assessments)]
        where schema.collection(name) == nil {
            throw SchemaError(message: "the report section names '\(name)' as its \(role), a collection the schema does not define")
        }
    }
}
