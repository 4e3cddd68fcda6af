import DiskIO
import Foundation
import Shared

/// The content of attached files, in the replica's folder: one stored file per SHA-256, however many
/// records or people attached it. The database says which files the replica holds (`file` table); this
/// type only keeps their bytes.
///
/// On an encrypted replica the files live in `sealed/`, sealed chunk by chunk and named by a keyed hash
/// (`FileCipher`): nothing there shows a file's bytes or its SHA-256. A plaintext replica (`init
/// --no-passphrase`) keeps the raw bytes in `files/`, named by the SHA-256.
///
/// Every write goes to a staging file first (`tmp-*` for an attach, `NAME.part` for a download, which a
/// later fetch resumes), flushed to disk before it is renamed into place, so a crash leaves either
/// nothing or a whole file. A writer holds a lock on its staging file while it lives, so a sweep never
/// removes another process's work.
final class FileStore: Sendable {
    /// The folder of an encrypted replica's files.
    static let sealedFolderName = "sealed"
    /// The folder of a plaintext replica's files.
    static let plainFolderName = "files"
    static let stagingPrefix = "tmp-"
    static let partialSuffix = ".part"

    let folder: URL
    /// Seals and names the files; nil on a plaintext replica.
    let cipher: FileCipher?

    init(home: URL, cipher: FileCipher?) {
        folder = home.appendingPathComponent(cipher == nil ? Self.plainFolderName : Self.sealedFolderName, isDirectory: true)
        self.cipher = cipher
    }

    var isSealed: Bool { cipher != nil }

    /// The name a file is stored under.
    func storedName(_ sha256: String) -> String { cipher?.storedName(sha256) ?? sha256 }

    /// Where the whole file of `sha256` is stored.
    func url(_ sha256: String) -> URL { folder.appendingPathComponent(storedName(sha256)) }

    /// Where a download of `sha256` keeps what it received so far.
    func partialURL(_ sha256: String) -> URL { folder.appendingPathComponent(storedName(sha256) + Self.partialSuffix) }

    /// Where each chunk of a sealed file starts, one after the other: a full chunk sealed, then zeros up to
    /// the next disk block, so that every chunk is written and read straight between an aligned buffer and
    /// the disk (`DirectIO`). Files sealed before this layout (chunks right after each other) are still read:
    /// `StoredFile` tells them by their length.
    static let sealedStride = Int64(DirectIO.padded(FileCipher.sealedChunkSize))

    /// The aligned buffers a chunk is sealed into and written from, or read into and opened from (one
    /// per chunk under way, a few kept for reuse).
    static let chunkBuffers = AlignedBuffers(size: Int(sealedStride), keep: 4)

    /// Opens a stored or staging file for its chunks: for direct I/O where the file system allows it,
    /// else as usual. -1 with `errno` set when it cannot be opened.
    static func openForChunks(_ path: String, _ flags: Int32) -> Int32 {
        DirectIO.openPreferringDirect(path, flags)
    }

    /// The room one full chunk takes on disk, from its start to the next chunk's.
    var chunkStride: Int64 { isSealed ? Self.sealedStride : Int64(Wire.Files.chunkSize) }

    /// Where chunk `index` starts in a stored file.
    func storedOffset(ofChunk index: Int64) -> Int64 { index * chunkStride }

    /// The length on disk of a whole stored file of `size` bytes: its last chunk ends the file.
    func storedLength(size: Int64) -> Int64 {
        guard isSealed else { return size }
        let count = Wire.Files.chunkCount(size: size)
        return (count - 1) * Self.sealedStride + (size - (count - 1) * Int64(Wire.Files.chunkSize)) + Int64(FileCipher.overhead)
    }

    /// The length of a whole sealed file of `size` bytes stored before chunks were aligned (each sealed
    /// chunk right after the one before); nil for an unsealed store, or when it is the same length as
    /// now (a file of one chunk, laid out alike either way).
    func unalignedLength(size: Int64) -> Int64? {
        guard isSealed else { return nil }
        let length = size + Wire.Files.chunkCount(size: size) * Int64(FileCipher.overhead)
        return length == storedLength(size: size) ? nil : length
    }

    /// Whether the whole file of `sha256` is on disk, at its full length (its content is checked by `verify`).
    func holds(_ sha256: String, size: Int64) -> Bool {
        var info = stat()
        guard stat(url(sha256).path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        return Int64(info.st_size) == storedLength(size: size) || Int64(info.st_size) == unalignedLength(size: size)
    }

    /// Creates the folder (owner only) if needed.
    func prepareFolder() throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ClientError("cannot create \(folder.path) (\(error.localizedDescription)): check the folder's permissions and free space")
        }
    }

    /// Moves a finished staging file into place as the file of `sha256` (replacing what a crash may have
    /// left there) and flushes the folder, so the rename survives a power cut.
    func commit(staged: URL, as sha256: String) throws {
        guard rename(staged.path, url(sha256).path) == 0 else {
            throw FileStore.failure("cannot move the stored file into place", folder)
        }
        try DurableFile.syncFolder(of: staged)
    }

    /// Removes staging files that no live writer holds (left by a process that was killed or crashed).
    /// Downloads' partial files stay: the next fetch resumes them.
    func removeAbandonedStaging() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name.hasPrefix(Self.stagingPrefix) {
            let path = folder.appendingPathComponent(name).path
            let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard descriptor >= 0 else { continue }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { unlink(path) }
            close(descriptor)
        }
    }

    /// The stored files' names with no file the database knows (`known` SHA-256s): left by a crash
    /// between moving a file into place and recording it. Partial downloads are not counted.
    func unknownFiles(known: Set<String>) -> [String] {
        let names = Set(known.map(storedName))
        let present = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return present.filter { !names.contains($0) && !$0.hasPrefix(Self.stagingPrefix) && !$0.hasSuffix(Self.partialSuffix) }.sorted()
    }

    /// An error naming `folder` and the system's reason (`errno`); a full disk says so.
    static func failure(_ what: String, _ folder: URL, code: Int32 = errno) -> ClientError {
        if code == ENOSPC || code == EDQUOT {
            return ClientError("\(what): the disk holding \(folder.path) is full; nothing was kept: free some space and try again")
        }
        return ClientError("\(what) in \(folder.path) (\(String(cString: strerror(code)))): nothing was kept; check the folder's permissions and free space")
    }
}
