import Foundation

/// The replica's 256-bit data key: everything under the replica folder is encrypted with it.
///
/// Held in one page-locked allocation (never swapped out where the system allows) and zeroed
/// when released, so a copy does not linger in memory after the command or the agent is done.
/// Never printed, logged or passed on a command line.
final class DataKey: @unchecked Sendable {
    static let byteCount = 32

    /// The key's bytes; valid while this object lives. Do not copy them into arrays that outlive it.
    let bytes: UnsafeMutableRawBufferPointer

    /// A copy of `source`, which must hold exactly `byteCount` bytes.
    init?(copying source: UnsafeRawBufferPointer) {
        guard source.count == Self.byteCount else { return nil }
        bytes = .allocate(byteCount: Self.byteCount, alignment: 16)
        _ = mlock(bytes.baseAddress, Self.byteCount)
        bytes.copyMemory(from: source)
    }

    /// A new random key from the system's generator.
    static func random() -> DataKey {
        var generator = SystemRandomNumberGenerator()
        var raw = [UInt8](repeating: 0, count: byteCount)
        for index in raw.indices { raw[index] = generator.next() }
        defer { raw.withUnsafeMutableBytes { DataKey.zero($0) } }
        return raw.withUnsafeBytes { DataKey(copying: $0)! }
    }

    /// Whether two keys are the same, in time independent of where they differ.
    func matches(_ other: DataKey) -> Bool {
        var difference: UInt8 = 0
        for index in 0..<Self.byteCount { difference |= bytes[index] ^ other.bytes[index] }
        return difference == 0
    }

    deinit {
        Self.zero(bytes)
        _ = munlock(bytes.baseAddress, Self.byteCount)
        bytes.deallocate()
    }

    /// Overwrites `buffer` with zeros in a way the optimiser cannot drop.
    static func zero(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        let volatile = base.assumingMemoryBound(to: UInt8.self)
        for index in 0..<buffer.count { withExtendedLifetime(volatile) { volatile[index] = 0 } }
        // A compiler barrier: the writes above must happen before the memory is freed.
        _ = memchr(base, 1, buffer.count)
    }
}
