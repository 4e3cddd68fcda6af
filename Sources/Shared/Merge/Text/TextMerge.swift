import Foundation

/// Merges concurrent versions of a long text made from one base, the way a version control system
/// merges code: changes to different parts combine, changes to the same part are a conflict.
///
/// Every version is diffed against the base (Myers) by line, which in prose is a paragraph. Where
/// the versions' changes meet (see `MergeLevel`), the paragraphs concerned are merged again by
/// sentence: so one person may correct a date in a paragraph's first sentence while another adds a
/// sentence at its end. Two versions that change the same sentence differently, or both insert at
/// the same place, conflict. The result depends only on the base and the set of versions in the
/// order given; the rule is symmetric, so the order only names the sides of a conflict.
package enum TextMerge {
    /// The granularities a merge works at: lines, then sentences within lines that meet.
    package static let levels: [TextGranularity] = [.line, .sentence]

    /// One part of a merge: text every version agrees on (after combining), or a conflict.
    package enum Piece: Equatable, Sendable {
        /// Merged text.
        case clean(String)
        /// Whole lines where versions disagree: the base's, and each version's with every clean
        /// change of the others applied (nil for a version that changed nothing here).
        case conflict(base: String, versions: [String?])
    }

    /// The merge of `versions` from `base`, or nil when they conflict.
    package static func merge(base: String, versions: [String], levels: [TextGranularity] = levels) -> String? {
        guard let bytes = mergeBytes(base: Array(base.utf8), sides: versions.map { Array($0.utf8) }, levels: levels[...]) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The merge as pieces: clean text, and the conflicts with each version's side.
    package static func pieces(base: String, versions: [String], levels: [TextGranularity] = levels) -> [Piece] {
        let baseBytes = Array(base.utf8), sides = versions.map { Array($0.utf8) }
        guard let first = levels.first, let level = MergeLevel(base: baseBytes, sides: sides, granularity: first) else {
            return [.conflict(base: base, versions: versions.map { $0 == base ? nil : $0 })]
        }
        var pieces: [Piece] = []
        var clean: [UInt8] = []
        var position = 0
        for component in level.components {
            clean += level.baseBytes(position..<component.old.lowerBound)
            position = component.old.upperBound
            if let merged = resolve(component, in: level, levels: levels.dropFirst()) {
                clean += merged
                continue
            }
            if !clean.isEmpty { pieces.append(.clean(String(decoding: clean, as: UTF8.self))) }
            clean = []
            pieces.append(conflict(component, in: level, levels: levels.dropFirst()))
        }
        clean += level.baseBytes(position..<level.base.ids.count)
        if !clean.isEmpty { pieces.append(.clean(String(decoding: clean, as: UTF8.self))) }
        return pieces
    }

    /// The merged bytes, or nil at the first conflict.
    private static func mergeBytes(base: [UInt8], sides: [[UInt8]], levels: ArraySlice<TextGranularity>) -> [UInt8]? {
        guard let granularity = levels.first, let level = MergeLevel(base: base, sides: sides, granularity: granularity) else { return nil }
        var merged: [UInt8] = []
        merged.reserveCapacity(base.count + 64)
        var position = 0
        for component in level.components {
            merged += level.baseBytes(position..<component.old.lowerBound)
            guard let bytes = resolve(component, in: level, levels: levels.dropFirst()) else { return nil }
            merged += bytes
            position = component.old.upperBound
        }
        merged += level.baseBytes(position..<level.base.ids.count)
        return merged
    }

    /// A component's merged bytes: clean as it is, or clean at a finer level; nil when it conflicts.
    private static func resolve(_ component: MergeLevel.Component, in level: MergeLevel, levels: ArraySlice<TextGranularity>) -> [UInt8]? {
        if let clean = level.clean(component) { return clean }
        guard !levels.isEmpty else { return nil }
        let base = Array(level.baseBytes(component.old))
        return mergeBytes(base: base, sides: level.sides.indices.map { level.region(component, side: $0) }, levels: levels)
    }

    /// A conflicting component as a piece: each version's side has the finer level's clean changes
    /// of every version applied, and its own where versions disagree.
    private static func conflict(_ component: MergeLevel.Component, in level: MergeLevel, levels: ArraySlice<TextGranularity>) -> Piece {
        let base = Array(level.baseBytes(component.old))
        let regions = level.sides.indices.map { level.region(component, side: $0) }
        var blocks: [String?] = regions.enumerated().map { component.sides.contains($0.offset) ? String(decoding: $0.element, as: UTF8.self) : nil }
        if let granularity = levels.first, let finer = MergeLevel(base: base, sides: regions, granularity: granularity) {
            for side in component.sides {
                blocks[side] = String(decoding: sideBlock(side, in: finer, levels: levels.dropFirst()), as: UTF8.self)
            }
        }
        return .conflict(base: String(decoding: base, as: UTF8.self), versions: blocks)
    }

    /// What version `side` shows of a finer level: clean components merged, its own side of the others.
    private static func sideBlock(_ side: Int, in level: MergeLevel, levels: ArraySlice<TextGranularity>) -> [UInt8] {
        var bytes: [UInt8] = []
        var position = 0
        for component in level.components {
            bytes += level.baseBytes(position..<component.old.lowerBound)
            bytes += resolve(component, in: level, levels: levels) ?? level.region(component, side: side)
            position = component.old.upperBound
        }
        bytes += level.baseBytes(position..<level.base.ids.count)
        return bytes
    }
}
