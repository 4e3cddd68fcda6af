import DiskIO
import Foundation
import TestSupport
import Testing
@testable import Client
@testable import Shared

/// The replica's stored files are laid out for direct I/O: every sealed chunk starts on a disk block,
/// the bytes go straight to disk and stay out of the page cache, and a file sealed before this layout
/// (each sealed chunk right after the one before) still reads and verifies.
@Suite struct AlignedFileStoreTests {
    /// 2 full chunks and a short one.
    static let size = 2 * Wire.Files.chunkSize + 123_457

    /// Sealed and plaintext stores; a short last chunk, files of exactly one and two full chunks (nothing
    /// to cut off: the last chunk's padding is all the block it ends in), and an empty file.
    @Test(arguments: [true, false], [2 * Wire.Files.chunkSize + 123_457, Wire.Files.chunkSize, 2 * Wire.Files.chunkSize, 0])
    func attachedFilesAreLaidOutOnDiskBlocksAndStayOutOfThePageCache(sealed: Bool, size: Int) throws {
        let home = VaultFixtures.home("files-aligned")
        defer { try? FileManager.default.removeItem(at: home) }
        let replica: Replica
        if sealed {
            replica = try VaultFixtures.encrypted(home).0
        } else {
            replica = try Replica.create(home: home, settings: try VaultFixtures.settings(), token: "cbk_test", key: nil)
        }
        let bytes = EvidenceFixtures.bytes(size, marker: "aligned")
        let id = try VaultFixtures.add(replica, ["title": .text("Aligned")])
        _ = try replica.attach(id, field: nil, paths: [try EvidenceFixtures.file("video.mp4", bytes)], settings: try replica.settings())
        let sha256 = FakeFileServer.hash(bytes)
        let url = replica.files.url(sha256)
        let length = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        // Every chunk but the last takes a whole stride (4 MiB, and a disk block for a sealed chunk's nonce,
        // tag and zeros); the last chunk ends the file: its padding was cut off.
        let chunks = max(1, (size + Wire.Files.chunkSize - 1) / Wire.Files.chunkSize)
        let stride = sealed ? Wire.Files.chunkSize + DirectIO.alignment : Wire.Files.chunkSize
        let overhead = sealed ? FileCipher.overhead : 0
        #expect(length == (chunks - 1) * stride + (size - (chunks - 1) * Wire.Files.chunkSize) + overhead)
        #expect(replica.files.chunkStride == Int64(stride))
        if size > 0, PageCache.directWritesBypassIt(url.deletingLastPathComponent()) {
            #expect(PageCache.residentPages(url.path) == 0)
        }
        let file = try StoredFile(store: replica.files, sha256: sha256, size: Int64(size))
        for index in 0..<chunks { #expect(try file.chunk(Int64(index)) == Array(Self.chunk(index, of: bytes))) }
        #expect(replica.verifyFile(sha256, size: Int64(size)) == nil)
    }

    @Test func aFileSealedBeforeChunksWereAlignedStillReadsAndVerifies() throws {
        let home = VaultFixtures.home("files-unaligned")
        defer { try? FileManager.default.removeItem(at: home) }
        let (replica, _) = try VaultFixtures.encrypted(home)
        let store = replica.files
        let bytes = EvidenceFixtures.bytes(Self.size, marker: "sealed before")
        let sha256 = FakeFileServer.hash(bytes)
        let stored = try Self.sealedUnaligned(bytes, chunks: 3, store: store)
        #expect(Int64(stored.count) == store.unalignedLength(size: Int64(Self.size)))
        try store.prepareFolder()
        try Data(stored).write(to: store.url(sha256))

        #expect(store.holds(sha256, size: Int64(Self.size)))
        let file = try StoredFile(store: store, sha256: sha256, size: Int64(Self.size))
        #expect(try file.chunk(2) == Array(bytes[(2 * Wire.Files.chunkSize)...]))
        #expect(try file.chunk(1) == Array(bytes[Wire.Files.chunkSize..<(2 * Wire.Files.chunkSize)]))
        #expect(replica.verifyFile(sha256, size: Int64(Self.size)) == nil)
        // A file of one chunk is laid out alike either way.
        #expect(store.unalignedLength(size: 1_000) == nil)
    }

    /// A download interrupted under the older layout (chunks right after each other) resumes at its first
    /// chunk that does not open where the new layout puts it, and ends as a file in the new layout.
    @Test func aDownloadBegunBeforeChunksWereAlignedResumesAndEndsAligned() throws {
        let home = VaultFixtures.home("files-part-unaligned")
        defer { try? FileManager.default.removeItem(at: home) }
        let (replica, _) = try VaultFixtures.encrypted(home)
        let store = replica.files
        let bytes = EvidenceFixtures.bytes(Self.size, marker: "downloaded before")
        let sha256 = FakeFileServer.hash(bytes)
        func chunk(_ index: Int) -> ArraySlice<UInt8> { Self.chunk(index, of: bytes) }
        let partial = try Self.sealedUnaligned(bytes, chunks: 2, store: store)
        try store.prepareFolder()
        try Data(partial).write(to: store.partialURL(sha256))

        let writer = try store.resumeDownload(sha256, size: Int64(Self.size))
        // Chunk 0 sits at 0 in both layouts; chunk 1 was written where the new layout has padding.
        #expect(writer.index == 1)
        for index in 1..<3 { try chunk(index).withUnsafeBytes { try writer.append($0) } }
        try store.finishDownload(writer)
        #expect(try FileManager.default.attributesOfItem(atPath: store.url(sha256).path)[.size] as? Int == Int(store.storedLength(size: Int64(Self.size))))
        #expect(replica.verifyFile(sha256, size: Int64(Self.size)) == nil)
        #expect(try StoredFile(store: store, sha256: sha256, size: Int64(Self.size)).chunk(1) == Array(chunk(1)))
    }

    /// Chunk `index` of `bytes`.
    static func chunk(_ index: Int, of bytes: [UInt8]) -> ArraySlice<UInt8> {
        bytes[(index * Wire.Files.chunkSize)..<min(bytes.count, (index + 1) * Wire.Files.chunkSize)]
    }

    /// The first `chunks` chunks of `bytes` sealed as casebook stored them before chunks were aligned to
    /// disk blocks: each sealed chunk right after the one before.
    static func sealedUnaligned(_ bytes: [UInt8], chunks: Int, store: FileStore) throws -> [UInt8] {
        let cipher = try #require(store.cipher)
        let sha256 = FakeFileServer.hash(bytes)
        let sealed = UnsafeMutableRawBufferPointer.allocate(byteCount: FileCipher.sealedChunkSize, alignment: 16)
        defer { sealed.deallocate() }
        var stored: [UInt8] = []
        for index in 0..<chunks {
            let length = chunk(index, of: bytes).withUnsafeBytes {
                cipher.seal($0, into: sealed, sha256: sha256, index: Int64(index), size: Int64(bytes.count))
            }
            stored += sealed[0..<length]
        }
        return stored
    }
}
