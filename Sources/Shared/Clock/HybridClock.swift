import Foundation

/// Why the clock refused a remote timestamp.
package struct ClockDriftError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The refused remote timestamp.
    package let remote: HLC
    /// The local wall clock when it was refused, in milliseconds.
    package let localMillis: UInt64
    /// The configured bound, in milliseconds.
    package let maxDriftMillis: UInt64

    /// How far ahead of the local wall clock the remote timestamp was.
    package var aheadMillis: UInt64 { remote.millis - localMillis }

    package var description: String {
        "timestamp \(remote.text) is \(aheadMillis / 1000) s ahead of this clock (the limit is \(maxDriftMillis / 1000) s): "
            + "check the date and time of the device that made it"
    }
}

/// A hybrid logical clock (Kulkarni et al. 2014) for one node.
///
/// Invariants, enforced here:
/// - every timestamp it issues is strictly greater than every timestamp it issued or received before,
///   whatever the wall clock does (it may jump backwards);
/// - when the counter would overflow within one millisecond, the clock moves to the next millisecond,
///   so order is never broken;
/// - a remote timestamp more than `maxDriftMillis` ahead of the local wall clock is refused and
///   leaves the clock untouched, so one device with a wrong clock cannot drag everyone forward.
package struct HybridClock: Sendable {
    /// The node this clock stamps events for.
    package let node: NodeID
    /// How far ahead of the wall clock a received timestamp may be.
    package let maxDriftMillis: UInt64
    /// The last timestamp issued or received.
    package private(set) var latest: HLC

    /// A clock for `node`, optionally resuming from the last timestamp it saw (persisted by the caller).
    package init(node: NodeID, maxDriftMillis: UInt64 = 5 * 60 * 1000, latest: HLC? = nil) {
        self.node = node
        self.maxDriftMillis = maxDriftMillis
        self.latest = latest.map { HLC(millis: $0.millis, counter: $0.counter, node: node) }
            ?? HLC(millis: 0, counter: 0, node: node)
    }

    /// A timestamp for a local event at wall-clock time `now` (milliseconds since the epoch).
    package mutating func tick(now: UInt64) -> HLC {
        let wall = min(now, HLC.maxMillis)
        if wall > latest.millis {
            latest = HLC(millis: wall, counter: 0, node: node)
        } else {
            latest = successor(millis: latest.millis, counter: latest.counter)
        }
        return latest
    }

    /// Merges a remote timestamp at wall-clock time `now` and returns the timestamp of the receive event.
    ///
    /// Throws `ClockDriftError` (and does not move) when `remote` is further ahead of `now` than allowed.
    @discardableResult
    package mutating func receive(_ remote: HLC, now: UInt64) throws(ClockDriftError) -> HLC {
        let wall = min(now, HLC.maxMillis)
        if remote.millis > wall, remote.millis - wall > maxDriftMillis {
            throw ClockDriftError(remote: remote, localMillis: wall, maxDriftMillis: maxDriftMillis)
        }
        let top = max(wall, latest.millis, remote.millis)
        if top == latest.millis && top == remote.millis {
            latest = successor(millis: top, counter: max(latest.counter, remote.counter))
        } else if top == latest.millis {
            latest = successor(millis: top, counter: latest.counter)
        } else if top == remote.millis {
            latest = successor(millis: top, counter: remote.counter)
        } else {
            latest = HLC(millis: top, counter: 0, node: node)
        }
        return latest
    }

    /// The next timestamp after (millis, counter): counter + 1, or the next millisecond when the counter is full.
    private func successor(millis: UInt64, counter: UInt16) -> HLC {
        if counter < UInt16.max {
            return HLC(millis: millis, counter: counter + 1, node: node)
        }
        // Counter overflow: borrow the next millisecond. Order holds because millis dominates.
        return HLC(millis: min(millis + 1, HLC.maxMillis), counter: 0, node: node)
    }
}
