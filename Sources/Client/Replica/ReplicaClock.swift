import Foundation
import GRDB
import Shared

/// The replica's clock: the hybrid clock that stamps its edits, and the server's offset from the
/// device's time. Loaded and saved inside the transaction that uses it; time is a parameter.
struct ReplicaClock: Sendable {
    /// The hybrid clock. The client trusts timestamps the server already accepted, whatever
    /// their distance, so it has no drift bound (the server enforces one on pushes).
    private(set) var hybrid: HybridClock
    /// Server time minus device time, in milliseconds, from the last contact.
    var offset: Int64

    /// A clock for `node` that has issued or seen nothing after `latest`.
    init(node: NodeID, latest: HLC?, offset: Int64) {
        hybrid = HybridClock(node: node, maxDriftMillis: HLC.maxMillis, latest: latest)
        self.offset = offset
    }

    /// The clock as the replica stored it.
    static func load(_ db: Database) throws -> ReplicaClock {
        guard let node = NodeID(try Setting.get(.node, db) ?? "") else {
            throw ClientError("the replica's node id is damaged: run 'casebook init' in a new --home")
        }
        return ReplicaClock(node: node, latest: try Setting.get(.clock, db).flatMap(HLC.init(text:)),
                     offset: Int64(try Setting.get(.clockOffset, db) ?? "0") ?? 0)
    }

    /// Stores the clock, in the caller's transaction.
    func save(_ db: Database) throws {
        try Setting.set(.clock, hybrid.latest.text, db)
        try Setting.set(.clockOffset, String(offset), db)
    }

    /// The device's time corrected by the offset: the `now` to stamp edits with.
    var now: UInt64 { WallClock.millis(offset: offset) }

    /// A new timestamp for a local edit made at `now`.
    mutating func tick(now: UInt64) -> HLC { hybrid.tick(now: now) }

    /// Moves the clock past a timestamp received from the server.
    mutating func receive(_ remote: HLC, now: UInt64) {
        _ = try? hybrid.receive(remote, now: now)
    }

    /// Restarts the clock from `latest` (what the server accepted), dropping a wrong clock's future.
    mutating func restart(from latest: HLC?) {
        hybrid = HybridClock(node: hybrid.node, maxDriftMillis: HLC.maxMillis, latest: latest)
    }
}
