import Foundation

/// A version named as a parent (base or superseded) by a change of one record's field: parents
/// only count within their own record and field, so this is the key every store tracks them by.
package struct FieldParent: Hashable, Sendable {
    /// The record of the change that names the parent.
    package var record: String
    /// The field of that change.
    package var field: String
    /// The version it builds on.
    package var parent: HLC

    /// A parent named within `record`'s `field`.
    package init(record: String, field: String, parent: HLC) {
        self.record = record
        self.field = field
        self.parent = parent
    }
}
