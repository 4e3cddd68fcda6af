import Foundation

/// File operations that survive a crash or a power cut at any point, and removal that leaves no
/// readable bytes behind in the file's blocks (where the file system overwrites in place).
enum DurableFile {
    /// Writes `data` to `url` (mode 0600) so that a crash leaves either the old file or the new one:
    /// write `url.new` (locked while it is written), flush it to disk, rename it over `url`, flush the folder.
    static func replace(_ url: URL, with data: Data) throws {
        let staged = staging(url)
        let descriptor = open(staged.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw failure("cannot write \(staged.lastPathComponent)", url) }
        defer { close(descriptor) }
        // Held until the rename: `removeAbandoned` leaves a staged file alone while its writer lives.
        guard flock(descriptor, LOCK_EX) == 0 else { throw failure("cannot lock \(staged.lastPathComponent)", url) }
        try data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                guard written > 0 else { throw failure("cannot write \(staged.lastPathComponent)", url) }
                offset += written
            }
        }
        guard fsync(descriptor) == 0 else { throw failure("cannot flush \(staged.lastPathComponent) to disk", url) }
        guard rename(staged.path, url.path) == 0 else { throw failure("cannot rename \(staged.lastPathComponent) over \(url.lastPathComponent)", url) }
        try syncFolder(of: url)
    }

    /// The staging file `replace` writes before renaming it over `url`.
    static func staging(_ url: URL) -> URL { url.appendingPathExtension("new") }

    /// Shreds the staging file of `url` left by a `replace` that was interrupted, unless a live writer
    /// holds it (its lock), or it has meanwhile been renamed into place.
    static func removeAbandoned(stagingOf url: URL) {
        let staged = staging(url)
        let descriptor = open(staged.path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var opened = stat(), current = stat()
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0, fstat(descriptor, &opened) == 0, lstat(staged.path, &current) == 0,
              opened.st_dev == current.st_dev, opened.st_ino == current.st_ino
        else { return }
        try? overwrite(descriptor, size: opened.st_size, random: true, url: staged)
        unlink(staged.path)
    }

    /// Flushes the folder holding `url`, so that a rename or removal in it survives a power cut.
    static func syncFolder(of url: URL) throws {
        let descriptor = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot open the folder", url) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("cannot flush the folder to disk", url) }
    }

    /// Overwrites every byte of `url` (random bytes when `random`, else zeros), flushes, and removes
    /// it. Does nothing when there is no such file.
    static func shred(_ url: URL, random: Bool = false) throws {
        let descriptor = open(url.path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else {
            if errno == ENOENT { return }
            throw failure("cannot overwrite \(url.lastPathComponent)", url)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw failure("cannot overwrite \(url.lastPathComponent)", url) }
        try overwrite(descriptor, size: info.st_size, random: random, url: url)
        guard unlink(url.path) == 0 || errno == ENOENT else { throw failure("cannot remove \(url.lastPathComponent)", url) }
    }

    private static func overwrite(_ descriptor: Int32, size: off_t, random: Bool, url: URL) throws {
        var block = [UInt8](repeating: 0, count: 1 << 16)
        var generator = SystemRandomNumberGenerator()
        var offset: off_t = 0
        while offset < size {
            let count = Int(min(off_t(block.count), size - offset))
            if random { for index in 0..<count { block[index] = generator.next() } }
            let written = block.withUnsafeBytes { pwrite(descriptor, $0.baseAddress!, count, offset) }
            guard written > 0 else { throw failure("cannot overwrite \(url.lastPathComponent)", url) }
            offset += off_t(written)
        }
        guard fsync(descriptor) == 0 else { throw failure("cannot flush \(url.lastPathComponent) to disk", url) }
    }

    /// An error naming the folder of `url` and the system's reason.
    private static func failure(_ what: String, _ url: URL) -> ClientError {
        let reason = String(cString: strerror(errno))
        return ClientError("\(what) in \(url.deletingLastPathComponent().path) (\(reason)): check the folder's permissions and free space")
    }
}
