import Foundation
import Shared

/// Writes a bundle file whole or not at all: into a temporary file beside it (owner-only), flushed,
/// then renamed over the target and the folder flushed. A failure removes the temporary file.
enum BundleFileWriter {
    /// Runs `body` with a function that appends bytes to the file, then puts the file in place.
    static func write<T>(to target: URL, _ body: (@escaping ([UInt8]) throws -> Void) throws -> T) throws -> T {
        let folder = target.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(target.lastPathComponent).\(Hex.encode(random(8))).partial")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw ClientError("cannot create a file in \(folder.path) (\(String(cString: strerror(errno)))): check the folder exists and that you may write there")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            let result = try body { bytes in
                do {
                    try handle.write(contentsOf: bytes)
                } catch {
                    throw ClientError("cannot write \(target.path) (\(error.localizedDescription)): check free space; nothing was written")
                }
            }
            try handle.synchronize()
            try handle.close()
            guard rename(temporary.path, target.path) == 0 else {
                throw ClientError("cannot put the bundle in place at \(target.path) (\(String(cString: strerror(errno)))): nothing was written")
            }
            try DurableFile.syncFolder(of: target)
            return result
        } catch {
            try? handle.close()
            unlink(temporary.path)
            throw error
        }
    }

    /// Random bytes from the system's generator.
    static func random(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
