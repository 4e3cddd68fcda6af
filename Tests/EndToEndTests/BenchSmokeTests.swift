import Foundation
import TestSupport
import Testing

/// The benchmark at tiny sizes, so it never rots (its real figures live in docs/performance.md
/// and are never asserted: they come from a release build on a quiet machine).
@Suite struct BenchSmokeTests {
    @Test(arguments: StoreKind.allCases) func theBenchmarkRunsEveryPhase(store: StoreKind) throws {
        var arguments = ["--smoke", "--bin", Programs.products.path]
        // On PostgreSQL the benchmark makes (and drops) databases of its own beside this one.
        let database = store == .postgres ? try TestPostgres.Database() : nil
        defer { database?.drop() }
        if let database { arguments += ["--database-url", database.url] }
        let result = try Programs.run("casebook-bench", arguments)
        #expect(result.code == 0, "\(result.stderr)")
        for phase in ["raw SQLite insert (baseline)", "| push |", "| initial pull |", "incremental pull", "no-op sync", "`casebook add`",
                      "`casebook list --where`", "concurrency: 5 replicas at once",
                      "load generator: 12 replicas, 2 syncs each every 0.5 s", "load generator: most replicas with p99 under 1 s", "attach (hash, encrypt, store)", "upload (`casebook sync`)",
                      "download (`casebook fetch --all`)", "no-op sync, 150 attachments", "requests per sync (server log): 1, 1, 1, 1, 1",
                      "text merge: 2 concurrent edits",
                      "field merge (base found through history)", "| the same word changed two ways (a real conflict) | 20 | 20 | 20 | 20 |",
                      "import recommendations (term ids)", "import recommendations (as the UN words them)",
                      "initial pull, persons, 2 sensitive fields", "`casebook list persons --json`, 2 sensitive fields",
                      "`bundle apply` on a replica that holds none of it", "`sync` relaying the published changes",
                      "push, recommendations", "initial pull, recommendations", "records/s"] {
            #expect(result.stdout.contains(phase), "missing \(phase) in:\n\(result.stdout)")
        }
        #expect(result.stdout.contains("errors 0"))
        #expect(!result.stdout.contains("NOT CONVERGED"))
        #expect(result.stdout.contains(store == .postgres ? "server store: PostgreSQL" : "server store: embedded SQLite"))
    }
}
