import Foundation
import Shared

/// Writes a stored file back out as its original bytes, into a folder the person names, and nowhere
/// else: the name is a plain file name (no folders; `FileRef.sanitizedName`), the bytes go to a new
/// hidden file in that folder (created, never followed through a link), are checked against the hash
/// as they are written, flushed, and only then given the name. An existing file of that name is kept
/// unless `overwrite` (then it is replaced whole, never written into).
enum FileExtractor {
    static func extract(_ file: StoredFile, name: String, to folder: URL, overwrite: Bool) throws -> URL {
        let name = FileRef.sanitizedName(name)
        var info = stat()
        guard stat(folder.path, &info) == 0 else { throw ClientError("\(folder.path) does not exist: create the folder first, or name another with --to") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw ClientError("\(folder.path) is not a folder: --to takes a folder") }
        let target = folder.appendingPathComponent(name, isDirectory: false)
        // The name is one path component: the target is directly inside the folder.
        guard target.deletingLastPathComponent().standardizedFileURL.path == folder.standardizedFileURL.path else {
            throw ClientError("'\(name)' is not a plain file name: nothing was written")
        }
        if !overwrite && lstat(target.path, &info) == 0 {
            throw ClientError("\(target.path) exists already: nothing was written; add --overwrite to replace it, or --as NAME to write it under another name")
        }
        var random = SystemRandomNumberGenerator()
        let staged = folder.appendingPathComponent(".casebook-extract-" + Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255, using: &random) }))
        let descriptor = open(staged.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw FileStore.failure("cannot create a file to extract into", folder) }
        do {
            defer { close(descriptor) }
            try file.readAll { bytes in try write(bytes, to: descriptor, folder: folder) }
            guard fsync(descriptor) == 0 else { throw FileStore.failure("cannot flush the extracted file to disk", folder) }
        } catch {
            unlink(staged.path)
            throw error
        }
        try place(staged, at: target, overwrite: overwrite)
        try? DurableFile.syncFolder(of: target)
        return target
    }

    /// Gives the finished file its name: replacing what is there (`rename`), or only if nothing is (`link`, which never replaces).
    private static func place(_ staged: URL, at target: URL, overwrite: Bool) throws {
        defer { unlink(staged.path) }
        if overwrite {
            guard rename(staged.path, target.path) == 0 else {
                throw ClientError("cannot write \(target.path) (\(String(cString: strerror(errno)))): nothing was written")
            }
        } else if link(staged.path, target.path) != 0 {
            var info = stat()
            // A file system without hard links (a FAT memory stick): check, then rename.
            if [EPERM, EOPNOTSUPP, ENOSYS].contains(errno) && lstat(target.path, &info) != 0 && rename(staged.path, target.path) == 0 { return }
            if errno == EEXIST || lstat(target.path, &info) == 0 {
                throw ClientError("\(target.path) exists already: nothing was written; add --overwrite to replace it, or --as NAME to write it under another name")
            }
            throw ClientError("cannot write \(target.path) (\(String(cString: strerror(errno)))): nothing was written")
        }
    }

    private static func write(_ bytes: [UInt8], to descriptor: Int32, folder: URL) throws {
        try bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let count = Foundation.write(descriptor, buffer.baseAddress! + done, buffer.count - done)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw FileStore.failure("cannot write the extracted file", folder) }
                done += count
            }
        }
    }
}
