import Foundation
import Shared

extension Syncer {
    /// The schema pages announcing `version` need: `current`, or, when the project's is newer, the
    /// server's new version, fetched, kept and announced before the page is checked or applied.
    /// A version that would change what stored values mean is refused, as the server refuses it.
    func schema(forVersion version: Int?, current: Schema) async throws -> Schema {
        guard let version, version > current.version else { return current }
        guard let fetched = try await client.currentSchema() else { return current }
        let evolution = SchemaEvolution(from: current, to: fetched)
        guard fetched.version >= version, evolution.problems.isEmpty else {
            let problems = evolution.problems.isEmpty ? ["it is version \(fetched.version), the pull said \(version)"] : evolution.problems
            throw ClientError("the server's new schema does not follow this replica's version \(current.version): \(problems.joined(separator: "; ")); nothing was applied: tell the project's admin")
        }
        try await replica.adoptSchema(fetched, previous: current)
        let steps = evolution.steps.map(\.description)
        Output.note("schema updated to version \(fetched.version)" + (steps.isEmpty ? "" : ": " + steps.joined(separator: ", ")))
        return fetched
    }
}
