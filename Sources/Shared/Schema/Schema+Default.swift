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

    /// This schema with `source`'s column aliases and report roles, when it is `source`'s name and version
    /// but has neither: a project created from the embedded schema before it carried them keeps the
    /// import aliases and the report it had. Any other schema comes back as it is.
    package func backfilled(from source: Schema) -> Schema {
        let hasAliases = collections.contains { $0.fields.contains { !$0.aliases.isEmpty } }
        guard name == source.name, version == source.version, report == nil, !hasAliases else { return self }
        var filled = self
        for c in filled.collections.indices {
            let sourceCollection = source.collection(filled.collections[c].name)
            for f in filled.collections[c].fields.indices {
                filled.collections[c].fields[f].aliases = sourceCollection?.field(filled.collections[c].fields[f].name)?.aliases ?? []
            }
        }
        if let roles = source.report, [roles.recommendations, roles.reviews, roles.assessments].allSatisfy({ collection($0) != nil }) {
            filled.report = roles
        }
        // A look-alike whose fields differ could make an alias ambiguous: then it keeps what it had.
        do { try filled.check() } catch { return self }
        return filled
    }
}
