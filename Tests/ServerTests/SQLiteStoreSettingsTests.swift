import Foundation
import GRDB
import Testing
@testable import Server

/// The embedded store's connections: the writer keeps a large page cache, readers a small one, so
/// the server's memory does not grow with the store while large pulls are served (docs/performance.md).
@Suite struct SQLiteStoreSettingsTests {
    @Test func readersKeepASmallPageCacheAndTheWriterALargeOne() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-store-settings-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteSyncStore(folder: folder)
        let reader = try await store.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") }
        let writer = try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") }
        #expect(reader == -SQLiteSyncStore.readerCacheKiB)
        #expect(writer == -65536)
    }
}
