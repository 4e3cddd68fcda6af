import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Slows down repeated wrong passphrases: the Nth wrong guess in a row holds the replica's attempt
/// lock for min(2^(N-1), 30) seconds before it fails, and attempts take turns on that lock, so
/// guessers in parallel wait as much as guessers in turn. The count lives in the file `unlock-failures` in the replica folder
/// (a number and a time: nothing about the replica's content). Someone who copies the folder can
/// skip this; the key derivation's cost (half a second per guess, 64 MiB) is what holds them back.
struct UnlockThrottle {
    static let fileName = "unlock-failures"
    static let maxDelay = 30.0

    let path: String

    init(home: URL) { path = home.appendingPathComponent(Self.fileName).path }

    /// Runs `attempt` in turn with other attempts. A wrong passphrase (`isWrongPassphrase`) counts
    /// and waits before it is reported; success clears the count. An attempt first waits out whatever
    /// is left of the last failure's wait, so killing a failed guess while it waits saves nothing.
    func run<T>(_ attempt: () throws -> T, isWrongPassphrase: (any Error) -> Bool) throws -> T {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { return try attempt() }  // a read-only folder: no throttle rather than no access
        defer { close(descriptor) }
        _ = flock(descriptor, LOCK_EX)
        let (failures, last) = read(descriptor)
        let left = Self.delay(after: failures) - (Date().timeIntervalSince1970 - last)
        if failures > 0 && left > 0 {
            Output.note("waiting \(Int(left.rounded(.up))) s after \(failures) wrong passphrase\(failures == 1 ? "" : "s")...")
            Thread.sleep(forTimeInterval: left)
        }
        do {
            let result = try attempt()
            if failures > 0 { write(descriptor, 0, 0) }
            return result
        } catch where isWrongPassphrase(error) {
            write(descriptor, failures + 1, Date().timeIntervalSince1970)
            let wait = Self.delay(after: failures + 1)
            Output.note("wrong passphrase (\(failures + 1) in a row): waiting \(Int(wait)) s before the next guess...")
            Thread.sleep(forTimeInterval: wait)
            throw error
        }
    }

    static func delay(after failures: Int) -> Double {
        failures <= 0 ? 0 : min(pow(2, Double(min(failures, 16) - 1)), maxDelay)
    }

    /// The failures in a row and when the last one was, from "COUNT TIME".
    private func read(_ descriptor: Int32) -> (Int, Double) {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return (0, 0) }
        let parts = String(decoding: buffer[0..<count], as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 2, let failures = Int(parts[0]), let last = Double(parts[1]) else { return (0, 0) }
        return (max(0, failures), last)
    }

    private func write(_ descriptor: Int32, _ failures: Int, _ last: Double) {
        let text = Array("\(failures) \(last)\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, text, text.count, 0)
        _ = fsync(descriptor)
    }
}
