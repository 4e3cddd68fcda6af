import Foundation
import Testing

/// The benchmark at tiny sizes, so it never rots (its real figures live in docs/performance.md
/// and are never asserted: they come from a release build on a quiet machine).
@Suite(.serialized) struct BenchSmokeTests {
    @Test func theBenchmarkRunsEveryPhase() throws {
        let result = try Programs.run("casebook-bench", ["--smoke", "--bin", Programs.products.path])
        #expect(result.code == 0, "\(result.stderr)")
        for phase in ["raw SQLite insert (baseline)", "| push |", "| initial pull |", "incremental pull", "no-op sync", "`casebook add`",
                      "`casebook list --where`", "concurrency: 5 replicas at once"] {
            #expect(result.stdout.contains(phase), "missing \(phase) in:\n\(result.stdout)")
        }
        #expect(result.stdout.contains("errors 0"))
    }
}
