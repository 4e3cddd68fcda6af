import Foundation

/// Fields of a collection that only make sense together, such as a date and how precise it is.
///
/// A group behaves as one value made of several fields: an edit of any member writes every member
/// (the others with their current values), one edit's members get consecutive timestamps, and
/// concurrent edits that leave the group with different values are one conflict of the group,
/// resolved as one. So a group never ends up with some members from one edit and the rest from
/// another. Members of a group never merge automatically (`MergeHook`), even long text.
package struct FieldGroup: Codable, Sendable, Hashable {
    /// The group's name, as conflicts name it; not the name of a field of the collection.
    package var name: String
    /// Its members, in the order edits stamp them (the first leads).
    package var fields: [String]
    /// A sentence for people.
    package var description: String?

    /// A group of `fields`.
    package init(name: String, fields: [String], description: String? = nil) {
        self.name = name
        self.fields = fields
        self.description = description
    }
}

extension Schema {
    /// Checks a collection's groups: valid names that no field has, at least two members each,
    /// every member a field of the collection and in one group only.
    static func checkGroups(of collection: CollectionSchema) throws(SchemaError) {
        var names = Set<String>()
        var grouped = Set<String>()
        for group in collection.groups {
            let path = "\(collection.name).\(group.name)"
            guard isValidName(group.name) else {
                throw SchemaError(message: "group name '\(path)' is not valid: use lower-case letters, digits and _, not starting with _")
            }
            guard collection.field(group.name) == nil else {
                throw SchemaError(message: "group '\(path)' has the name of a field: give the group a name of its own")
            }
            guard names.insert(group.name).inserted else { throw SchemaError(message: "group '\(path)' is defined twice") }
            guard Set(group.fields).count >= 2, Set(group.fields).count == group.fields.count else {
                throw SchemaError(message: "group '\(path)' needs at least two different fields")
            }
            for field in group.fields {
                guard collection.field(field) != nil else {
                    throw SchemaError(message: "group '\(path)' names field '\(field)', which \(collection.name) does not have")
                }
                guard grouped.insert(field).inserted else {
                    throw SchemaError(message: "field '\(collection.name).\(field)' is in two groups: a field may be in one group only")
                }
            }
        }
    }
}

extension HLC {
    /// The stamp a clock issues right after this one at the same wall time: the counter plus one,
    /// or the next millisecond when the counter is full (`HybridClock.tick`).
    package var following: HLC {
        counter < UInt16.max ? HLC(millis: millis, counter: counter + 1, node: node)
            : HLC(millis: min(millis + 1, HLC.maxMillis), counter: 0, node: node)
    }

    /// The stamp this one follows (the inverse of `following`), nil for the first possible one.
    package var preceding: HLC? {
        if counter > 0 { return HLC(millis: millis, counter: counter - 1, node: node) }
        return millis > 0 ? HLC(millis: millis - 1, counter: UInt16.max, node: node) : nil
    }
}

extension FieldGroup {
    /// One edit of a group stamps its members consecutively, in the group's order: the stamp of
    /// member `index` in the edit whose first member has `lead`.
    package func stamp(ofMember index: Int, lead: HLC) -> HLC {
        (0..<index).reduce(lead) { stamp, _ in stamp.following }
    }

    /// The first member's stamp in the edit that gave member `index` the stamp `hlc`.
    package func lead(of hlc: HLC, member index: Int) -> HLC? {
        (0..<index).reduce(Optional(hlc)) { stamp, _ in stamp?.preceding }
    }
}
