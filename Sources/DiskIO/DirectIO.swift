import CProcess
import Foundation
import Synchronization

/// Evidence files written and read past the page cache (`O_DIRECT`): the bytes go between an aligned
/// buffer of the process and the disk, with no copy into kernel pages on the way.
///
/// A file written once and read rarely gains nothing from the page cache, and copying a gigabyte into
/// it cost more than everything else an upload or an attach does: on this project's machines 3 to 5 s
/// of kernel CPU per GiB (pages the kernel takes fresh for the file), against about 0.2 s written
/// directly (docs/performance.md, "Evidence written past the page cache"). It also keeps a large file
/// from pushing the database's pages out of memory.
///
/// Direct I/O asks for offsets, lengths and buffers aligned to the disk's blocks (`alignment`): callers
/// place chunks at aligned offsets, pad a file's last block with zeros and cut the file back after it.
/// A file is opened as usual and then asked for direct I/O (`fcntl`), so a file system that refuses it
/// (tmpfs on older kernels, ramfs, some network and FUSE file systems) leaves an ordinary descriptor, opened
/// once (an open with `O_DIRECT` that fails creates the file all the same, and a second open with
/// `O_EXCL` would then fail). One that takes it at open but refuses a read or write (EINVAL) has
/// `O_DIRECT` cleared on the descriptor by `writeAll` and `readAll`, which go on through the page cache:
/// the bytes are the same either way.
public enum DirectIO {
    /// `O_DIRECT`, 0 where the system has none.
    public static let flag = casebook_direct_io_flag()
    /// Offsets, lengths and addresses of direct I/O are multiples of this: 4 KiB, as much as any disk asks.
    public static let alignment = 4096

    /// A failed system call and its `errno`.
    public struct Failure: Error {
        public let code: Int32

        public init(code: Int32) { self.code = code }
    }

    /// `length` rounded up to a whole number of aligned blocks.
    public static func padded(_ length: Int) -> Int {
        (length + alignment - 1) / alignment * alignment
    }

    /// Opens `path` with `flags` (and `mode` when it creates the file), then asks for direct I/O on the
    /// descriptor; -1 with `errno` set when it cannot be opened. The descriptor is direct when the file
    /// system took it (`isDirect`), an ordinary one otherwise.
    public static func openPreferringDirect(_ path: String, _ flags: Int32, mode: mode_t = 0o600) -> Int32 {
        let fd = open(path, flags, mode)
        guard fd >= 0, flag != 0 else { return fd }
        let current = fcntl(fd, F_GETFL)
        if current >= 0 { _ = fcntl(fd, F_SETFL, current | flag) }
        return fd
    }

    /// Writes the first `length` bytes of `buffer` (aligned, with room to the end of their last block) at
    /// `offset`, zeros filling the rest of that block, so that the write is whole blocks. When
    /// `endsFile`, the file is then cut back to end at `offset + length`.
    public static func writePadded(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, length: Int, at offset: Int64,
                                   endsFile: Bool) throws(Failure) {
        let padded = padded(length)
        precondition(padded <= buffer.count, "a padded write's buffer must reach the end of its last block")
        if padded > length { buffer.baseAddress!.advanced(by: length).initializeMemory(as: UInt8.self, repeating: 0, count: padded - length) }
        try writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<padded]), at: offset)
        if endsFile && padded > length {
            guard ftruncate(fd, off_t(offset) + off_t(length)) == 0 else { throw Failure(code: errno) }
        }
    }

    /// Writes all of `bytes` at `offset` of `fd`. When the file system refuses a direct write (EINVAL),
    /// `O_DIRECT` is cleared on `fd` and the rest goes through the page cache.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(Failure) {
        var done = 0, retried = false
        while done < bytes.count {
            let written = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if written < 0 && errno == EINTR { continue }
            if written < 0 && errno == EINVAL && fallBack(fd, retried: &retried) { continue }
            guard written > 0 else { throw Failure(code: written < 0 ? errno : ENOSPC) }
            done += written
        }
    }

    /// Reads into `buffer` from `offset` of `fd` until it is full or the file ends; returns how many
    /// bytes came. Falls back to the page cache as `writeAll` does.
    public static func readAll(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Failure) -> Int {
        var done = 0, retried = false
        while done < buffer.count {
            let got = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if got < 0 && errno == EINTR { continue }
            if got < 0 && errno == EINVAL && fallBack(fd, retried: &retried) { continue }
            guard got >= 0 else { throw Failure(code: errno) }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// After EINVAL: whether to try again through the page cache. Yes once `O_DIRECT` is cleared on `fd`,
    /// whoever cleared it (several tasks may read one descriptor, and another may have cleared it between
    /// this call's read and now); no when a call through the page cache was refused already (the error is
    /// not direct I/O's).
    static func fallBack(_ fd: Int32, retried: inout Bool) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0, flag != 0, flags & flag != 0 {
            return fcntl(fd, F_SETFL, flags & ~flag) == 0
        }
        guard !retried else { return false }
        retried = true
        return true
    }

    /// Whether `fd` was opened (and still is) for direct I/O.
    public static func isDirect(_ fd: Int32) -> Bool {
        flag != 0 && fcntl(fd, F_GETFL) & flag != 0
    }

}

/// Aligned buffers of one size, handed out one per caller and kept for reuse (fresh memory costs a
/// page fault per page on first touch; a reused buffer does not).
public final class AlignedBuffers: Sendable {
    public let size: Int
    public let alignment: Int
    public let keep: Int
    /// The free buffers' addresses.
    private let free = Mutex<[UInt]>([])

    public init(size: Int, alignment: Int = DirectIO.alignment, keep: Int) {
        (self.size, self.alignment, self.keep) = (size, alignment, keep)
    }

    /// Runs `body` with a buffer of `size` bytes at an address aligned to `alignment`, for its duration only.
    public func with<T, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> T) throws(E) -> T {
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
