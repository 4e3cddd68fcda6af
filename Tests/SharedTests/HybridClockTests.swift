import Foundation
import PropertyBased
import Testing
@testable import Shared

@Suite struct HybridClockTests {
    let node = Fixture.nodeA

    @Test func tickFollowsTheWallClock() {
        var clock = HybridClock(node: node)
        #expect(clock.tick(now: 1_000) == HLC(millis: 1_000, counter: 0, node: node))
        #expect(clock.tick(now: 1_000) == HLC(millis: 1_000, counter: 1, node: node))
        #expect(clock.tick(now: 1_005) == HLC(millis: 1_005, counter: 0, node: node))
    }

    @Test func tickStaysMonotonicWhenTheWallClockJumpsBack() {
        var clock = HybridClock(node: node)
        let first = clock.tick(now: 10_000)
        let second = clock.tick(now: 2_000)
        #expect(second > first)
        #expect(second == HLC(millis: 10_000, counter: 1, node: node))
    }

    @Test func counterOverflowMovesToTheNextMillisecond() {
        var clock = HybridClock(node: node, latest: HLC(millis: 500, counter: .max, node: node))
        let next = clock.tick(now: 500)
        #expect(next == HLC(millis: 501, counter: 0, node: node))
        #expect(next > HLC(millis: 500, counter: .max, node: Fixture.nodeC))
    }

    @Test func receiveTakesTheLargestOfLocalRemoteAndWall() throws {
        var clock = HybridClock(node: node)
        _ = clock.tick(now: 1_000)
        let remote = HLC(millis: 1_200, counter: 7, node: Fixture.nodeB)
        let merged = try clock.receive(remote, now: 1_100)
        #expect(merged == HLC(millis: 1_200, counter: 8, node: node))
        #expect(clock.tick(now: 1_100) == HLC(millis: 1_200, counter: 9, node: node))
        #expect(try clock.receive(HLC(millis: 5, counter: 0, node: Fixture.nodeB), now: 3_000) == HLC(millis: 3_000, counter: 0, node: node))
    }

    @Test func receiveRefusesATimestampTooFarAheadAndDoesNotMove() {
        var clock = HybridClock(node: node, maxDriftMillis: 60_000)
        let before = clock.tick(now: 1_000_000)
        let remote = HLC(millis: 1_000_000 + 61_000, counter: 0, node: Fixture.nodeB)
        let error = #expect(throws: ClockDriftError.self) { try clock.receive(remote, now: 1_000_000) }
        #expect(clock.latest == before)
        #expect(error?.description.contains("61 s ahead") == true)
        #expect(error?.description.contains("limit is 60 s") == true)
        // Within the bound it is accepted.
        #expect((try? clock.receive(HLC(millis: 1_059_000, counter: 0, node: Fixture.nodeB), now: 1_000_000)) != nil)
    }

    @Test func receiveInTheSameMillisecondCountsPastBothCounters() throws {
        // Local and remote share a millisecond ahead of the wall clock: the larger counter wins.
        var clock = HybridClock(node: node, latest: HLC(millis: 1_000, counter: 2, node: node))
        #expect(try clock.receive(HLC(millis: 1_000, counter: 7, node: Fixture.nodeB), now: 900) == HLC(millis: 1_000, counter: 8, node: node))
        #expect(try clock.receive(HLC(millis: 1_000, counter: 3, node: Fixture.nodeB), now: 900) == HLC(millis: 1_000, counter: 9, node: node))
        // The same with the wall clock in that millisecond too.
        clock = HybridClock(node: node, latest: HLC(millis: 1_000, counter: 2, node: node))
        #expect(try clock.receive(HLC(millis: 1_000, counter: 7, node: Fixture.nodeB), now: 1_000) == HLC(millis: 1_000, counter: 8, node: node))
        // A full remote counter borrows the next millisecond.
        #expect(try clock.receive(HLC(millis: 1_000, counter: .max, node: Fixture.nodeB), now: 1_000) == HLC(millis: 1_001, counter: 0, node: node))
    }

    @Test func receiveOrdersAfterBothTimestampsWhenMillisecondsCoincide() async {
        // Millisecond values from a tiny range, so local, remote and wall clock often coincide.
        let millis = Gen.int(in: 1_000...1_002)
        let counters = Gen.int(in: 0...Int(UInt16.max)).map { UInt16($0) }
        await propertyCheck(count: 2_000, input: millis, counters, millis, counters, millis) { localMillis, localCounter, remoteMillis, remoteCounter, wall in
            var clock = HybridClock(node: node, latest: HLC(millis: UInt64(localMillis), counter: localCounter, node: node))
            let before = clock.latest
            let remote = HLC(millis: UInt64(remoteMillis), counter: remoteCounter, node: Fixture.nodeB)
            let merged = try? clock.receive(remote, now: UInt64(wall))
            #expect(merged != nil)
            guard let merged else { return }
            // Past both, as the receive event must be, and no further than the next step requires.
            #expect(merged.millis > remote.millis || (merged.millis == remote.millis && merged.counter > remote.counter), "\(remote.text) → \(merged.text)")
            #expect(merged.millis > before.millis || (merged.millis == before.millis && merged.counter > before.counter), "\(before.text) → \(merged.text)")
            let top = UInt64(max(localMillis, remoteMillis, wall))
            #expect(merged.millis == top || (merged.millis == top + 1 && merged.counter == 0), "\(merged.text)")
        }
    }

    @Test func textFormSortsLikeTheValues() {
        let values = [
            HLC(millis: 1, counter: 0, node: Fixture.nodeB), HLC(millis: 1, counter: 1, node: Fixture.nodeA),
            HLC(millis: 0xFFFF, counter: 0, node: Fixture.nodeA), HLC(millis: 0x1_0000, counter: 0, node: Fixture.nodeA),
            HLC(millis: 1, counter: 0, node: Fixture.nodeA), HLC(millis: HLC.maxMillis, counter: .max, node: Fixture.nodeA),
        ]
        #expect(values.sorted().map(\.text) == values.map(\.text).sorted())
        for value in values { #expect(HLC(text: value.text) == value) }
    }

    @Test func nodeIDsOfAnyLengthRoundTripAndSortLikeTheirText() {
        var random = SeededGenerator(seed: 7)
        // Short ids with many shared prefixes and trailing zeros: the cases packing could get wrong.
        let texts = (0..<400).map { _ in
            String((0..<Int.random(in: 1...32, using: &random)).map { _ in "0a1f".randomElement(using: &random)! })
        }
        let nodes = texts.map { NodeID($0)! }
        #expect(nodes.map(\.rawValue) == texts)
        #expect(nodes.sorted().map(\.rawValue) == texts.sorted())
        #expect(Set(nodes).count == Set(texts).count)
        for (text, node) in zip(texts, nodes) { #expect(HLC(text: HLC(millis: 5, counter: 1, node: node).text)?.node.rawValue == text) }
        for bad in ["", String(repeating: "a", count: 33), "A1", "g", "a-"] { #expect(NodeID(bad) == nil, "\(bad)") }
    }

    @Test func textFormRejectsMalformedTimestamps() {
        for bad in ["", "zz", "0000000003e8-0000", "0000000003E8-0000-aaaa", "3e8-0-aaaa", "0000000003e8-0000-XYZ", "0000000003e8-00000-aa"] {
            #expect(HLC(text: bad) == nil, "\(bad)")
        }
    }

    @Test func neverGoesBackwardsUnderRandomWallClockJumps() async {
        let steps = Gen.int(in: -100_000...100_000).array(of: 1...60)
        await propertyCheck(count: 1_000, input: steps, Gen.int(in: 0...3)) { jumps, remoteEvery in
            var clock = HybridClock(node: node, maxDriftMillis: 50_000)
            var wall: Int64 = 1_700_000_000_000
            var last = clock.tick(now: UInt64(wall))
            for (index, jump) in jumps.enumerated() {
                wall += Int64(jump)
                let now = UInt64(max(0, wall))
                let next: HLC
                if remoteEvery > 0 && index % (remoteEvery + 1) == 0 {
                    let remote = HLC(millis: UInt64(max(0, wall + Int64(jump / 2))), counter: UInt16(index), node: Fixture.nodeB)
                    if let merged = try? clock.receive(remote, now: now) {
                        #expect(merged > remote)
                        next = merged
                    } else {
                        #expect(clock.latest == last)
                        continue
                    }
                } else {
                    next = clock.tick(now: now)
                }
                #expect(next > last)
                last = next
            }
        }
    }
}
