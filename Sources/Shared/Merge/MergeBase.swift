import Foundation

/// Finds where concurrent versions of a field diverged: their best common ancestors, the common
/// ancestors (through `base` and `supersedes`) that are not ancestors of another common ancestor.
///
/// The walk visits versions from the largest HLC down (a version is always later than what it
/// builds on, so a version's marks are final when it is visited), marking each with the heads that
/// reach it. A version reached by every head is a best common ancestor unless it was reached from
/// one already found; versions below one found are marked stale, and the walk ends when only stale
/// versions are left to visit. So it reads the versions between the heads and their merge base
/// (and a few below it), never the whole history, and which versions it reads depends only on the
/// versions themselves: every replica holding them walks the same way.
enum MergeBase {
    /// What a walk found.
    enum Walk: Equatable {
        /// The best common ancestors, largest HLC first.
        case found([HLC])
        /// The versions share no ancestor (two offline first writes of the field, say).
        case none
        /// Versions the graph does not answer for yet: load them and walk again.
        case needs(Set<HLC>)
        /// A version the walk must read is not held.
        case missing(HLC)
        /// The walk read more versions than its budget allows.
        case tooLong
    }

    /// Which heads reach a version, and whether it lies below a common ancestor already found.
    private struct Mark {
        var heads: [UInt64]
        var stale = false

        init(count: Int) { heads = [UInt64](repeating: 0, count: (count + 63) / 64) }

        mutating func insert(_ head: Int) { heads[head / 64] |= 1 << UInt64(head % 64) }

        mutating func formUnion(_ other: Mark) {
            for index in heads.indices { heads[index] |= other.heads[index] }
            stale = stale || other.stale
        }

        func isFull(_ count: Int) -> Bool {
            (0..<count).allSatisfy { heads[$0 / 64] & (1 << UInt64($0 % 64)) != 0 }
        }
    }

    /// The best common ancestors of `heads` in `graph`. `budget` is the number of versions the
    /// walk may still read (shared by the walks of one merge); `read` collects the versions read.
    static func walk(_ heads: [HLC], in graph: VersionGraph, budget: inout Int, read: inout Set<HLC>) -> Walk {
        var marks: [HLC: Mark] = [:]
        // To visit, ascending: the last is the next.
        var queue: [HLC] = []
        var liveCount = 0
        func enqueue(_ hlc: HLC, _ mark: Mark) {
            if let old = marks[hlc] {
                var merged = old
                merged.formUnion(mark)
                if !old.stale && merged.stale && queue.contains(hlc) { liveCount -= 1 }
                marks[hlc] = merged
                return
            }
            marks[hlc] = mark
            queue.insert(hlc, at: queue.firstIndex(sortedBy: { $0 > hlc }))
            if !mark.stale { liveCount += 1 }
        }
        for (index, head) in heads.enumerated() {
            var mark = Mark(count: heads.count)
            mark.insert(index)
            enqueue(head, mark)
        }
        var found: [HLC] = []
        while liveCount > 0, let hlc = queue.last {
            guard let node = graph.nodes[hlc] else {
                if graph.isAbsent(hlc) { return .missing(hlc) }
                return .needs(Set(queue.filter { !graph.knows($0) }))
            }
            queue.removeLast()
            budget -= 1
            guard budget >= 0 else { return .tooLong }
            read.insert(hlc)
            var mark = marks[hlc]!
            if !mark.stale { liveCount -= 1 }
            if !mark.stale && mark.isFull(heads.count) {
                found.append(hlc)
                mark.stale = true
            }
            for parent in node.parents where parent < hlc { enqueue(parent, mark) }
        }
        return found.isEmpty ? .none : .found(found)
    }
}

extension Array where Element: Comparable {
    /// The first index whose element satisfies `belongs`, by binary search (the array is partitioned by it).
    fileprivate func firstIndex(sortedBy belongs: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
