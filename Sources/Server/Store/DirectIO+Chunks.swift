import DiskIO
import Foundation
import NIOCore
import Shared

/// The embedded store's evidence chunks past the page cache (`DirectIO`): each chunk sits at a multiple
/// of `Wire.Files.chunkSize`, so only a file's last block needs padding.
extension DirectIO {
    /// The aligned buffers chunks go through, one per write or read under way (a few kept for reuse).
    static let chunkBuffers = AlignedBuffers(size: Wire.Files.chunkSize, keep: 4)

    /// Whether `length` bytes at `offset` may go directly.
    static func fits(offset: Int64, length: Int) -> Bool {
        flag != 0 && offset % Int64(alignment) == 0 && length <= chunkBuffers.size
    }

    /// Writes `bytes` at `offset` (a multiple of `alignment`) of `fd`, opened with `O_DIRECT`, through
    /// an aligned buffer. A padded last block is cut off again (the file ends at `offset +
    /// bytes.readableBytes`).
    static func write(_ bytes: ByteBuffer, to fd: Int32, at offset: Int64) throws(Failure) {
        try chunkBuffers.with { (scratch) throws(Failure) in
            bytes.withUnsafeReadableBytes { scratch.copyMemory(from: $0) }
            // Each chunk is written at the file's end (the file is cut to `offset` first).
            try writePadded(fd, scratch, length: bytes.readableBytes, at: offset, endsFile: true)
        }
    }

    /// Up to `length` bytes at `offset` (a multiple of `alignment`) of `fd`, opened with `O_DIRECT`;
    /// fewer when the file ends first.
    static func read(_ fd: Int32, offset: Int64, length: Int) throws(Failure) -> ByteBuffer {
        let padded = padded(length)
        return try chunkBuffers.with { (scratch) throws(Failure) -> ByteBuffer in
            let got = try readAll(fd, into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<padded]), at: offset)
            return ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: scratch[0..<min(got, length)]))
        }
    }
}
