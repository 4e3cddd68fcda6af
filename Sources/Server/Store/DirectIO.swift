import CProcess
import Foundation
import NIOCore
import Shared
import Synchronization

/// Evidence chunks written and read past the page cache (`O_DIRECT`): the bytes go between an aligned
/// buffer of this process and the disk, with no copy into kernel pages on the way.
///
/// A file written once and read rarely gains nothing from the page cache, and copying a gigabyte into
/// it cost more than everything else an upload does: on this project's machines 3 to 5 s of kernel CPU
/// per GiB (pages the kernel takes fresh for the file), against about 0.2 s written directly
/// (docs/performance.md, "Evidence written past the page cache"). It also keeps a large upload from
/// pushing the database's pages out of memory.
///
/// Direct I/O asks for offsets, lengths and buffers aligned to the disk's blocks: chunks sit at
/// multiples of `Wire.Files.chunkSize`, the last block of a file is padded with zeros and the file cut
/// back after it. A file system that refuses direct I/O (tmpfs on older kernels, some network file
/// systems) gets the same bytes through the page cache.
enum DirectIO {
    /// `O_DIRECT`, 0 where the system has none.
    static let flag = casebook_direct_io_flag()
    /// Offsets, lengths and addresses of direct I/O are multiples of this: 4 KiB, as much as any disk asks.
    static let alignment = 4096
    /// The aligned buffers chunks go through, one per write or read under way (a few kept for reuse).
    static let buffers = AlignedBuffers(size: Wire.Files.chunkSize, alignment: alignment, keep: 4)

    /// A failed system call and its `errno`.
    struct Failure: Error {
        let code: Int32
    }

    /// Whether `length` bytes at `offset` may go directly.
    static func fits(offset: Int64, length: Int) -> Bool {
        flag != 0 && offset % Int64(alignment) == 0 && length <= buffers.size
    }

    /// Opens `path` for direct I/O; -1 (errno set) when it cannot be opened, EINVAL when its file
    /// system refuses direct I/O.
    static func openDirect(_ path: String, _ flags: Int32, mode: mode_t = 0o600) -> Int32 {
        open(path, flags | flag, mode)
    }

    /// Writes `bytes` at `offset` (a multiple of `alignment`) of `fd`, opened with `O_DIRECT`, through
    /// an aligned buffer. A padded last block is cut off again (the file ends at `offset +
    /// bytes.readableBytes`).
    static func write(_ bytes: ByteBuffer, to fd: Int32, at offset: Int64) throws(Failure) {
        let count = bytes.readableBytes
        let padded = (count + alignment - 1) / alignment * alignment
        try buffers.with { (scratch) throws(Failure) in
            bytes.withUnsafeReadableBytes { scratch.copyMemory(from: $0) }
            if padded > count { scratch.baseAddress!.advanced(by: count).initializeMemory(as: UInt8.self, repeating: 0, count: padded - count) }
            try writeAll(fd, UnsafeRawBufferPointer(rebasing: scratch[0..<padded]), at: offset)
        }
        if padded > count { guard ftruncate(fd, off_t(offset) + off_t(count)) == 0 else { throw Failure(code: errno) } }
    }

    /// Up to `length` bytes at `offset` (a multiple of `alignment`) of `fd`, opened with `O_DIRECT`;
    /// fewer when the file ends first.
    static func read(_ fd: Int32, offset: Int64, length: Int) throws(Failure) -> ByteBuffer {
        let padded = (length + alignment - 1) / alignment * alignment
        return try buffers.with { (scratch) throws(Failure) -> ByteBuffer in
            let got = try readAll(fd, into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<padded]), at: offset)
            return ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: scratch[0..<min(got, length)]))
        }
    }

    /// Writes all of `bytes` at `offset` of `fd`. When the file system refuses a direct write (EINVAL),
    /// `O_DIRECT` is cleared on `fd` and the rest goes through the page cache.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(Failure) {
        var done = 0
        while done < bytes.count {
            let written = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if written < 0 && errno == EINTR { continue }
            if written < 0 && errno == EINVAL && clearDirect(fd) { continue }
            guard written > 0 else { throw Failure(code: written < 0 ? errno : ENOSPC) }
            done += written
        }
    }

    /// Reads into `buffer` from `offset` of `fd` until it is full or the file ends; returns how many
    /// bytes came. Falls back to the page cache as `writeAll` does.
    static func readAll(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Failure) -> Int {
        var done = 0
        while done < buffer.count {
            let got = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if got < 0 && errno == EINTR { continue }
            if got < 0 && errno == EINVAL && clearDirect(fd) { continue }
            guard got >= 0 else { throw Failure(code: errno) }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// Clears `O_DIRECT` on `fd`; false when it was not set (the error was not direct I/O's).
    private static func clearDirect(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, flags & flag != 0 else { return false }
        return fcntl(fd, F_SETFL, flags & ~flag) == 0
    }
}

/// Aligned buffers of one size, handed out one per caller and kept for reuse (fresh memory costs a
/// page fault per page on first touch; a reused buffer does not).
final class AlignedBuffers: Sendable {
    let size: Int
    let alignment: Int
    let keep: Int
    /// The free buffers' addresses.
    private let free = Mutex<[UInt]>([])

    init(size: Int, alignment: Int, keep: Int) {
        (self.size, self.alignment, self.keep) = (size, alignment, keep)
    }

    /// Runs `body` with a buffer of `size` bytes at an address aligned to `alignment`, for its duration only.
    func with<T, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> T) throws(E) -> T {
        let address = free.withLock { $0.popLast() }
        let buffer = address.map { UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: $0), count: size) }
            ?? UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: alignment)
        defer {
            let returned = UInt(bitPattern: buffer.baseAddress!)
            let kept = free.withLock { free in
                guard free.count < keep else { return false }
                free.append(returned)
                return true
            }
            if !kept { buffer.deallocate() }
        }
        return try body(buffer)
    }
}
