import Foundation

/// One difference between two token sequences: tokens `old` of the first are replaced by tokens
/// `new` of the second (an empty `old` is an insertion, an empty `new` a deletion).
package struct DiffHunk: Hashable, Sendable {
    /// The replaced tokens of the first sequence.
    package var old: Range<Int>
    /// The tokens of the second sequence that replace them.
    package var new: Range<Int>

    /// A hunk replacing `old` by `new`.
    package init(old: Range<Int>, new: Range<Int>) {
        self.old = old
        self.new = new
    }
}

/// The shortest edit script between two token sequences (Myers 1986, the greedy forward
/// algorithm), as hunks in order. Deterministic: the same inputs always give the same hunks.
///
/// The common prefix and suffix are matched first, so the work is about (length of the
/// differing middle) x (number of edits). `maxEdits` bounds it: sequences further apart
/// give nil, which a merge treats as a conflict (the same on every replica).
package enum MyersDiff {
    /// The hunks turning `old` into `new`, or nil when more than `maxEdits` single-token edits are needed.
    package static func hunks(_ old: [Int], _ new: [Int], maxEdits: Int = 2_000) -> [DiffHunk]? {
        var prefix = 0
        while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < old.count - prefix, suffix < new.count - prefix,
              old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
        let a = old[prefix..<(old.count - suffix)], b = new[prefix..<(new.count - suffix)]
        if a.isEmpty && b.isEmpty { return [] }
        if a.isEmpty || b.isEmpty {
            return [DiffHunk(old: a.startIndex..<a.endIndex, new: b.startIndex..<b.endIndex)]
        }
        guard let edits = shortestEdits(a, b, maxEdits: maxEdits) else { return nil }
        return group(edits)
    }

    /// One single-token edit at (x, y): a deletion of `a[x]`, or an insertion of `b[y]` before `a[x]`.
    private struct Edit {
        var x: Int
        var y: Int
        var isInsertion: Bool
    }

    /// The edits of a shortest script, in order, with indices of the full sequences.
    private static func shortestEdits(_ a: ArraySlice<Int>, _ b: ArraySlice<Int>, maxEdits: Int) -> [Edit]? {
        let n = a.count, m = b.count, limit = min(maxEdits, n + m)
        let offset = limit + 1
        var v = [Int](repeating: 0, count: 2 * limit + 3)
        // trace[d]: v's entries k in -(d-1)...(d-1) before step d, enough to walk back.
        var trace: [[Int]] = []
        for d in 0...limit {
            trace.append(d == 0 ? [] : Array(v[(offset - d + 1)...(offset + d - 1)]))
            for k in stride(from: -d, through: d, by: 2) {
                var x = (k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1])) ? v[offset + k + 1] : v[offset + k - 1] + 1
                var y = x - k
                while x < n, y < m, a[a.startIndex + x] == b[b.startIndex + y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                if x >= n && y >= m {
                    return walkBack(trace: trace, d: d, n: n, m: m).map {
                        Edit(x: $0.x + a.startIndex, y: $0.y + b.startIndex, isInsertion: $0.isInsertion)
                    }
                }
            }
        }
        return nil
    }

    /// The edits of the path found at step `d`, from the saved traces, in forward order.
    private static func walkBack(trace: [[Int]], d final: Int, n: Int, m: Int) -> [Edit] {
        var edits: [Edit] = []
        var x = n, y = m
        for d in stride(from: final, to: 0, by: -1) {
            let saved = trace[d]
            func at(_ k: Int) -> Int { saved[k + d - 1] }
            let k = x - y
            let previousK = (k == -d || (k != d && at(k - 1) < at(k + 1))) ? k + 1 : k - 1
            let previousX = at(previousK), previousY = previousX - previousK
            while x > previousX, y > previousY {
                x -= 1
                y -= 1
            }
            edits.append(previousK == k + 1 ? Edit(x: previousX, y: previousY, isInsertion: true)
                                            : Edit(x: previousX, y: previousY, isInsertion: false))
            x = previousX
            y = previousY
        }
        return edits.reversed()
    }

    /// Consecutive edits joined into hunks.
    private static func group(_ edits: [Edit]) -> [DiffHunk] {
        var hunks: [DiffHunk] = []
        for edit in edits {
            let old = edit.isInsertion ? edit.x..<edit.x : edit.x..<(edit.x + 1)
            let new = edit.isInsertion ? edit.y..<(edit.y + 1) : edit.y..<edit.y
            if var last = hunks.last, last.old.upperBound == old.lowerBound, last.new.upperBound == new.lowerBound {
                last.old = last.old.lowerBound..<old.upperBound
                last.new = last.new.lowerBound..<new.upperBound
                hunks[hunks.count - 1] = last
            } else {
                hunks.append(DiffHunk(old: old, new: new))
            }
        }
        return hunks
    }
}
