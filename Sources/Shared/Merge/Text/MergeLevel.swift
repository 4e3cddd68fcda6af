import Foundation

/// A base text and several versions of it, cut at one granularity and diffed against the base,
/// with their changes grouped into components: changes of different versions that touch the same
/// base tokens, or both insert at the same place, or one inserts inside what the other replaces,
/// fall into one component. Changes that only meet at a boundary (an edit of one sentence, an
/// insertion right after it) do not.
///
/// A component holding changes of one version only, or whose versions all make the same change
/// to it, is clean. Any other component is where the versions disagree.
struct MergeLevel {
    /// One version's change: base tokens `old` replaced by the version's tokens `new`.
    struct SideHunk {
        var side: Int
        var old: Range<Int>
        var new: Range<Int>
    }

    /// Changes that interact, over base tokens `old` (the union of theirs).
    struct Component {
        var old: Range<Int>
        var hunks: [SideHunk]
        /// The versions with a change in it, ascending.
        var sides: [Int]
    }

    let base: TokenizedText
    let sides: [TokenizedText]
    let components: [Component]

    /// The level, or nil when a version is too far from the base to diff within the bound.
    init?(base: [UInt8], sides: [[UInt8]], granularity: TextGranularity, maxEdits: Int = 2_000) {
        var table = TokenTable()
        let base = table.tokenize(base, granularity)
        let versions = sides.map { table.tokenize($0, granularity) }
        var hunks: [SideHunk] = []
        for (side, version) in versions.enumerated() {
            guard let diff = MyersDiff.hunks(base.ids, version.ids, maxEdits: maxEdits) else { return nil }
            hunks += diff.map { SideHunk(side: side, old: $0.old, new: $0.new) }
        }
        self.base = base
        self.sides = versions
        components = Self.components(hunks)
    }

    /// Groups hunks whose spans meet. In doubled coordinates a token t is 2t+1 and the gap before
    /// it 2t: a replacement of [a, b) spans 2a+1...2b-1 (not the gaps at its ends), an insertion at
    /// p spans 2p. Spans that overlap interact.
    private static func components(_ hunks: [SideHunk]) -> [Component] {
        func span(_ hunk: SideHunk) -> ClosedRange<Int> {
            hunk.old.isEmpty ? (2 * hunk.old.lowerBound)...(2 * hunk.old.lowerBound)
                : (2 * hunk.old.lowerBound + 1)...(2 * hunk.old.upperBound - 1)
        }
        let sorted = hunks.sorted { (span($0).lowerBound, span($0).upperBound, $0.side) < (span($1).lowerBound, span($1).upperBound, $1.side) }
        var result: [Component] = []
        var reach = Int.min
        for hunk in sorted {
            if let last = result.last, span(hunk).lowerBound <= reach {
                var grown = last
                grown.old = min(grown.old.lowerBound, hunk.old.lowerBound)..<max(grown.old.upperBound, hunk.old.upperBound)
                grown.hunks.append(hunk)
                if !grown.sides.contains(hunk.side) { grown.sides.append(hunk.side) }
                result[result.count - 1] = grown
            } else {
                result.append(Component(old: hunk.old, hunks: [hunk], sides: [hunk.side]))
            }
            reach = max(reach, span(hunk).upperBound)
        }
        for index in result.indices { result[index].sides.sort() }
        return result
    }

    /// The base's bytes of tokens `range`.
    func baseBytes(_ range: Range<Int>) -> ArraySlice<UInt8> { base.bytes(range) }

    /// What version `side` makes of the component's base tokens (the base's, where it changed nothing).
    func region(_ component: Component, side: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var position = component.old.lowerBound
        for hunk in component.hunks where hunk.side == side {
            bytes += base.bytes(position..<hunk.old.lowerBound)
            bytes += sides[side].bytes(hunk.new)
            position = hunk.old.upperBound
        }
        bytes += base.bytes(position..<component.old.upperBound)
        return bytes
    }

    /// The component's merged bytes when it is clean: one version changed it, or every version
    /// that changed it made it the same. Nil where versions disagree.
    func clean(_ component: Component) -> [UInt8]? {
        if component.sides.count == 1 { return region(component, side: component.sides[0]) }
        let first = region(component, side: component.sides[0])
        for side in component.sides.dropFirst() where region(component, side: side) != first { return nil }
        return first
    }
}
