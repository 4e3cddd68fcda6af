import Foundation

/// A project's file quota and what its files take: complete files and uploads in progress, each
/// counted at its declared size (an upload reserves its size when its first chunk arrives).
struct FileUsage: Sendable, Equatable, Encodable {
    /// The most bytes the project's files may take.
    var quota: Int64
    /// Bytes taken.
    var used: Int64
    /// Files held, complete or not.
    var files: Int
    /// Whether `quota` is the default (no quota was set for the project).
    var isDefault: Bool

    /// The quota of a project nobody set one for: 100 GiB.
    static let defaultQuota: Int64 = 100 << 30

    /// A size as people write it: bytes, or a number with K, M, G or T (powers of 1024; a trailing B or
    /// iB is allowed: 500M, 2GiB, 1.5T). Nil when it is not one.
    static func parseSize(_ text: String) -> Int64? {
        var number = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where number.hasSuffix(suffix) && number.count > suffix.count {
            number.removeLast(suffix.count)
            break
        }
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var unit: Int64 = 1
        if let last = number.last, let factor = units[last] {
            unit = factor
            number.removeLast()
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let value = Double(number), value >= 0 else { return nil }
        let bytes = (value * Double(unit)).rounded(.down)
        guard bytes < 9.0e18 else { return nil }
        return Int64(bytes)
    }

    /// A size for people: bytes below 1 KiB, else with one decimal and a binary unit.
    static func describe(_ bytes: Int64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard bytes >= 1024 else { return "\(bytes) bytes" }
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: "%.1f", value) + " " + units[unit]
    }
}
