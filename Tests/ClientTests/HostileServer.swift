import Foundation
@testable import Client
@testable import Shared

/// A server that answers whatever its test scripted: the pages a hostile or broken server could
/// send. It counts the pages it served and refuses to serve more than `maxPages`, so that a
/// client that would loop forever fails the test instead of hanging it.
final class HostileServer: SyncTransport, @unchecked Sendable {
    private let lock = NSLock()
    private let pullPage: @Sendable (Int64) -> Wire.PullResponse
    private let snapshotPage: @Sendable (HLC?) -> Wire.SnapshotResponse
    private(set) var pagesServed = 0
    var maxPages = 20
    /// The schema `GET .../schema` answers (nil: the replica's own, as the transport has none).
    var schema: Schema?

    static let now: UInt64 = 1_764_460_800_000

    init(pull: @escaping @Sendable (Int64) -> Wire.PullResponse = { Wire.PullResponse(changes: [], cursor: $0, more: false, latest: $0, serverTime: HostileServer.now) },
         snapshot: @escaping @Sendable (HLC?) -> Wire.SnapshotResponse = { _ in Wire.SnapshotResponse(changes: [], since: 0, next: nil, total: 0, serverTime: HostileServer.now) }) {
        pullPage = pull
        snapshotPage = snapshot
    }

    private func serve() throws {
        try lock.withLock {
            pagesServed += 1
            if pagesServed > maxPages { throw LoopError() }
        }
    }

    struct LoopError: Error {}

    func push(_ changes: [Change]) async throws -> Wire.PushResponse {
        Wire.PushResponse(results: [], serverTime: Self.now)
    }

    func pull(after: Int64, limit: Int, skip: Wire.OwnChanges?) async throws -> Wire.PullResponse {
        try serve()
        return pullPage(after)
    }

    func snapshot(after: HLC?, limit: Int) async throws -> Wire.SnapshotResponse {
        try serve()
        return snapshotPage(after)
    }

    func currentSchema() async throws -> Schema? { schema }
}
