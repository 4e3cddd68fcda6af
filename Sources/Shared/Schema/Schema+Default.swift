import Foundation

extension Schema {
    /// The default "upr" schema: UPR tracking and case documentation.
    ///
    /// It ships as the resource `Resources/upr-schema.json`, embedded in the binary by SwiftPM,
    /// and is loaded through the same JSON path as an admin's own schema file.
    package static let upr: Schema = {
        do {
            return try Schema.fromJSON(Data(PackageResources.upr_schema_json))
        } catch {
            // The resource is part of the build and covered by tests; a failure here is a build defect.
            preconditionFailure("the built-in upr schema is invalid: \(error)")
        }
    }()
}
