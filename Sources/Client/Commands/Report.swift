import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Report: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count recommendations by response, implementation status, theme and recommending state.",
            discussion: """
                For each review: the recommendations, the distinct recommending states, counts by response, by status, by theme,
                the state's claims and the NGO findings about implementation side by side, and the recommendations where they disagree.
                """)

        @Option(help: "Only this review (id or unique prefix).")
        var review: String?

        @Flag(help: "Print JSON.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let roles = try UPRReport.roles(in: settings.schema)
            let report = try await replica.database.read { db in
                try UPRReport.build(roles: roles, reviewFilter: try review.map { try RecordRef.find($0, db).id }, db)
            }
            if json { return try Output.json(report) }
            UPRReport.printText(report)
        }
    }
}
