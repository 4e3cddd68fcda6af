import CProcess
import DiskIO
import Crypto
import Foundation
import NIOCore
import NIOPosix
import Shared

/// The embedded store's file content: `DATA/files/PROJECT/SHA256` for complete files and
/// `DATA/files/PROJECT/partial/SHA256.UPLOAD` for uploads in progress (`StoredFile.upload`).
///
/// A partial file grows by whole chunks; the database counts them only once they are flushed (every
/// `flushInterval` bytes, and before the file completes), so it may hold more than the database says
/// (chunks written since the last flush, or after a crash), which the store cuts back before writing. A
/// complete file is the partial renamed once its whole hash checked, then the folder fsynced; it is
/// never written again, only removed by a purge.
struct FileFolder: Sendable {
    let root: URL
    /// How many bytes of an upload are written between two flushes (16 chunks): a power cut costs at
    /// most that much of a file sent again, and the disk is not made to wait every chunk.
    static let flushInterval = Int64(16 * Wire.Files.chunkSize)

    func projectFolder(_ project: String) -> URL { root.appendingPathComponent(project, isDirectory: true) }

    func complete(_ project: String, _ sha256: String) -> String {
        projectFolder(project).appendingPathComponent(sha256).path
    }

    func partial(_ project: String, _ sha256: String, upload: String) -> String {
        projectFolder(project).appendingPathComponent("partial", isDirectory: true).appendingPathComponent("\(sha256).\(upload)").path
    }

    /// Takes the folder's lock (`DATA/files/.lock`, an `flock`): shared while a chunk is stored (chunks
    /// do not exclude each other), exclusive for a purge, so that a purge run by another process never
    /// removes a file that a chunk is completing. Waits on NIO's thread pool; released by `release()`.
    func lock(exclusive: Bool) async throws -> FolderLock {
        let root = self.root.path
        return try await NIOThreadPool.singleton.runIfActive {
            try makeFolder(root)
            let path = root + "/.lock"
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw Self.failure("open", path) }
            while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
                guard errno == EINTR else {
                    let failure = Self.failure("lock", path)
                    close(fd)
                    throw failure
                }
            }
            return FolderLock(fd: fd)
        }
    }

    /// Writes `bytes` at `offset` of the file at `path` (created if missing, cut to `offset` first) and,
    /// when `flush`, fsyncs it and its folder. A chunk goes past the page cache (`DirectIO`); where it
    /// cannot, the kernel is asked to start writing it out, so that a later flush finds little left. A
    /// full disk is `StoreError.insufficientStorage`.
    func write(_ bytes: ByteBuffer, to path: String, at offset: Int64, flush: Bool = true) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let created = !FileManager.default.fileExists(atPath: path)
        if created { try makeFolder(folder) }
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC
        let fits = DirectIO.fits(offset: offset, length: bytes.readableBytes)
        let fd = fits ? DirectIO.openPreferringDirect(path, flags) : open(path, flags, 0o600)
        guard fd >= 0 else { throw Self.failure("open", path) }
        let direct = fits && DirectIO.isDirect(fd)
        defer { close(fd) }
        guard ftruncate(fd, off_t(offset)) == 0 else { throw Self.failure("truncate", path) }
        if direct {
            do throws(DirectIO.Failure) {
                try DirectIO.write(bytes, to: fd, at: offset)
            } catch {
                throw Self.failure("write", path, code: error.code)
            }
        } else {
            try bytes.withUnsafeReadableBytes { buffer in
                var done = 0
                while done < buffer.count {
                    let written = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { throw Self.failure("write", path) }
                    done += written
                }
            }
        }
        guard flush else {
            // Written through the page cache (no direct I/O here, or a write it refused): start its writeback.
            if !DirectIO.isDirect(fd) { _ = casebook_start_writeback(fd, offset, Int64(bytes.readableBytes)) }
            return
        }
        guard fsync(fd) == 0 else { throw Self.failure("fsync", path) }
        // The file may have been made by a write that was not flushed: its folder's entry is flushed too.
        try syncFolder(folder)
    }

    /// Cuts the file at `path` back to `length` bytes (nothing when it is missing).
    func truncate(_ path: String, to length: Int64) {
        _ = Foundation.truncate(path, off_t(length))
    }

    /// The file's length, nil when there is none.
    func length(_ path: String) -> Int64? {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : nil
    }

    /// Renames `partial` to `complete` (replacing any file there, which can only hold the same
    /// bytes) and fsyncs the folder, so the rename survives a crash.
    func promote(_ partial: String, to complete: String) throws {
        guard rename(partial, complete) == 0 else { throw Self.failure("rename", partial) }
        try syncFolder((complete as NSString).deletingLastPathComponent)
    }

    func remove(_ path: String) {
        _ = unlink(path)
    }

    /// Undoes a write at `offset` that the database did not count: cuts the file back, or removes it
    /// when it held nothing before.
    func cutBack(_ path: String, to offset: Int64) {
        if offset == 0 { remove(path) } else { truncate(path, to: offset) }
    }

    /// `length` bytes at `offset` of the file at `path`, nil when it is missing or shorter. A chunk is
    /// read past the page cache (`DirectIO`), as it was written.
    func read(_ path: String, offset: Int64, length: Int) throws -> ByteBuffer? {
        let fits = DirectIO.fits(offset: offset, length: length)
        let fd = fits ? DirectIO.openPreferringDirect(path, O_RDONLY | O_CLOEXEC) : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw Self.failure("open", path)
        }
        defer { close(fd) }
        if fits && DirectIO.isDirect(fd) {
            do throws(DirectIO.Failure) {
                let buffer = try DirectIO.read(fd, offset: offset, length: length)
                return buffer.readableBytes == length ? buffer : nil
            } catch {
                throw Self.failure("read", path, code: error.code)
            }
        }
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        let count = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
            var done = 0
            while done < length {
                let got = pread(fd, target.baseAddress! + done, length - done, off_t(offset) + off_t(done))
                if got < 0 && errno == EINTR { continue }
                guard got >= 0 else { throw Self.failure("read", path) }
                if got == 0 { break }
                done += got
            }
            return done
        }
        return count == length ? buffer : nil
    }

    /// The SHA-256 of the first `length` bytes of the file at `path`, read a chunk at a time; nil
    /// when it is missing or shorter.
    func hash(_ path: String, length: Int64) throws -> RunningHash? {
        var hasher = RunningHash()
        var offset: Int64 = 0
        while offset < length {
            let piece = Int(min(Int64(Wire.Files.chunkSize), length - offset))
            guard let bytes = try read(path, offset: offset, length: piece) else { return nil }
            hasher.update(bytes)
            offset += Int64(piece)
        }
        return hasher
    }

    /// Puts the file at `source` at `target` (a folder of another `FileFolder`): a hard link when both
    /// are on one disk (a complete file is never written again), else a copy, fsynced. False when
    /// `source` is gone (purged meanwhile).
    func copy(_ source: String, to target: String) throws -> Bool {
        try makeFolder((target as NSString).deletingLastPathComponent)
        if link(source, target) == 0 { return true }
        if errno == ENOENT { return false }
        guard errno == EXDEV || errno == EPERM || errno == EMLINK else { throw Self.failure("link", target) }
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            if errno == ENOENT { return false }
            throw Self.failure("open", source)
        }
        defer { close(input) }
        var offset: Int64 = 0
        while let piece = try readPiece(input, offset: offset) {
            try write(piece, to: target, at: offset)
            offset += Int64(piece.readableBytes)
        }
        if offset == 0 { try write(ByteBuffer(), to: target, at: 0) }
        return true
    }

    /// Up to a chunk of an open file from `offset`, nil at its end.
    private func readPiece(_ fd: Int32, offset: Int64) throws -> ByteBuffer? {
        var buffer = ByteBufferAllocator().buffer(capacity: Wire.Files.chunkSize)
        let count = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Wire.Files.chunkSize) { target in
            let got = pread(fd, target.baseAddress!, Wire.Files.chunkSize, off_t(offset))
            guard got >= 0 else { throw Self.failure("read", "a stored file") }
            return got
        }
        return count > 0 ? buffer : nil
    }

    /// Fsyncs the root and the folders of `projects`, so that the links and copies made in them last.
    func syncFolders(_ projects: [String]) throws {
        for project in Set(projects) { try syncFolder(projectFolder(project).path) }
        try syncFolder(root.path)
    }

    private func makeFolder(_ folder: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue { return }
        try makeFolder((folder as NSString).deletingLastPathComponent)
        guard mkdir(folder, 0o700) == 0 || errno == EEXIST else { throw Self.failure("create the folder", folder) }
    }

    private func syncFolder(_ folder: String) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.failure("open", folder) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Self.failure("fsync", folder) }
    }

    /// The error for a failed system call: a full disk (or quota) is 507, anything else 503.
    static func failure(_ what: String, _ path: String, code: Int32 = errno) -> StoreError {
        if code == ENOSPC || code == EDQUOT {
            return .insufficientStorage("the server's disk is full: nothing of this chunk was kept; ask the server's admin to free space, then send it again")
        }
        return .unavailable("the server could not \(what) a file of its store (\(String(cString: strerror(code)))): ask its admin to check the disk")
    }
}

/// A held `FileFolder` lock; `release()` closes its descriptor, which lets the lock go.
final class FolderLock: @unchecked Sendable {
    private let lock = NSLock()
    private var fd: Int32?

    init(fd: Int32) { self.fd = fd }

    func release() {
        lock.withLock {
            if let fd { close(fd) }
            fd = nil
        }
    }

    deinit { release() }
}
