import Crypto
import Foundation
import Shared

/// A file a person attaches, opened for reading: checked to be a readable regular file, read in chunks,
/// and watched for changes while it is read (its size, times and identity before and after).
final class SourceFile {
    let path: String
    let size: Int64
    private let descriptor: Int32
    private let identity: Identity

    /// What changes when a file is written to, renamed over, or replaced.
    private struct Identity: Equatable {
        var device: UInt64, inode: UInt64, size: Int64
        var modified: timespec, changed: timespec

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = info.st_mtim
            changed = info.st_ctim
        }

        static func == (a: Identity, b: Identity) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size
                && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
                && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
        }
    }

    /// Opens `path` for reading; the error says what is wrong with it (missing, a folder, unreadable, too large).
    init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw Self.openFailure(path, errno) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            throw Self.openFailure(path, errno)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            let folder = (info.st_mode & S_IFMT) == S_IFDIR
            throw ClientError(folder ? "\(path) is a folder: attach the files in it (casebook attach ID \(path)/*)"
                                     : "\(path) is not a regular file (a device, a pipe or a socket): copy it into a file first")
        }
        guard Int64(info.st_size) <= FileRef.maxSize else {
            close(descriptor)
            throw ClientError("\(path) is larger than the largest file Casebook takes (\(FileRef.maxSize) bytes)")
        }
        _ = fcntl(descriptor, F_SETFL, 0)  // back to blocking reads
        posix_fadvise(descriptor, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        self.descriptor = descriptor
        size = Int64(info.st_size)
        identity = Identity(info)
    }

    deinit { close(descriptor) }

    /// Reads the file from its start, chunk by chunk (`Wire.Files.chunkSize`, every chunk full but the
    /// last), giving each to `body`; returns the SHA-256 of what was read. Refuses a file that changed
    /// (in length, or by its times) while it was read.
    @discardableResult
    func read(_ body: (UnsafeRawBufferPointer) throws -> Void) throws -> String {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: Wire.Files.chunkSize)
        var offset: Int64 = 0
        for index in 0..<Wire.Files.chunkCount(size: size) {
            let length = Wire.Files.chunkLength(index: index, size: size) ?? 0
            let count = try buffer.withUnsafeMutableBytes { try fill($0, count: length, at: offset) }
            guard count == length else { throw changed() }
            try buffer.withUnsafeBytes { bytes in
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[0..<length])
                hasher.update(bufferPointer: chunk)
                try body(chunk)
            }
            offset += Int64(length)
        }
        // One more byte would mean the file grew.
        var probe: UInt8 = 0
        guard pread(descriptor, &probe, 1, off_t(offset)) == 0, try unchanged() else { throw changed() }
        return Hex.encode(Array(hasher.finalize()))
    }

    /// Whether the file is still the one opened, with the same length and times.
    func unchanged() throws -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Self.openFailure(path, errno) }
        var named = stat()
        // Renamed over or replaced by another file of the same name counts as changed too.
        guard stat(path, &named) == 0 else { return false }
        return Identity(info) == identity && Identity(named) == identity
    }

    /// The error for a file that changed while it was attached.
    func changed() -> ClientError {
        ClientError("\(path) changed while it was being attached: nothing was stored; attach it again once nothing writes to it")
    }

    private func fill(_ buffer: UnsafeMutableRawBufferPointer, count: Int, at offset: Int64) throws -> Int {
        var done = 0
        while done < count {
            let read = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            if read < 0 && errno == EINTR { continue }
            guard read >= 0 else { throw ClientError("cannot read \(path) (\(String(cString: strerror(errno)))): nothing was stored") }
            if read == 0 { break }
            done += read
        }
        return done
    }

    private static func openFailure(_ path: String, _ code: Int32) -> ClientError {
        switch code {
        case ENOENT: ClientError("\(path) does not exist: check the path")
        case EACCES, EPERM: ClientError("\(path) cannot be read (permission denied): check its permissions")
        default: ClientError("cannot open \(path) (\(String(cString: strerror(code)))): nothing was stored")
        }
    }
}
