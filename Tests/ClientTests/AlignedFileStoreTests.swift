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

    @Test(arguments: [true, false]) func attachedFilesAreLaidOutOnDiskBlocksAndStayOutOfThePageCache(sealed: Bool) throws {
        let home = VaultFixtures.home("files-aligned")
        defer { try? FileManager.default.removeItem(at: home) }
        let replica: Replica
        if sealed {
            replica = try VaultFixtures.encrypted(home).0
        } else {
            replica = try Replica.create(home: home, settings: try VaultFixtures.settings(), token: "cbk_test", key: nil)
        }
        let bytes = EvidenceFixtures.bytes(Self.size, marker: "aligned")
        let id = try VaultFixtures.add(replica, ["title": .text("Aligned")])
        _ = try replica.attach(id, field: nil, paths: [try EvidenceFixtures.file("video.mp4", bytes)], settings: try replica.settings())
        let sha256 = FakeFileServer.hash(bytes)
        let url = replica.files.url(sha256)
        let length = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        let overhead = sealed ? FileCipher.overhead : 0
        // The last chunk ends the file: its padding was cut off.
        #expect(length == 2 * Int(replica.files.chunkStride) + 123_457 + overhead)
        #expect(replica.files.chunkStride % Int64(DirectIO.alignment) == 0)
        if PageCache.directWritesBypassIt(url.deletingLastPathComponent()) {
            #expect(PageCache.residentPages(url.path) == 0)
        }
        let file = try StoredFile(store: replica.files, sha256: sha256, size: Int64(Self.size))
        for index in 0..<3 {
            let range = (index * Wire.Files.chunkSize)..<min(Self.size, (index + 1) * Wire.Files.chunkSize)
            #expect(try file.chunk(Int64(index)) == Array(bytes[range]))
        }
        #expect(replica.verifyFile(sha256, size: Int64(Self.size)) == nil)
    }

    @Test func aFileSealedBeforeChunksWereAlignedStillReadsAndVerifies() throws {
        let home = VaultFixtures.home("files-unaligned")
        defer { try? FileManager.default.removeItem(at: home) }
        let (replica, _) = try VaultFixtures.encrypted(home)
        let store = replica.files
        let cipher = try #require(store.cipher)
        let bytes = EvidenceFixtures.bytes(Self.size, marker: "sealed before")
        let sha256 = FakeFileServer.hash(bytes)
        // As casebook stored it before: each sealed chunk right after the one before.
        var stored: [UInt8] = []
        let sealed = UnsafeMutableRawBufferPointer.allocate(byteCount: FileCipher.sealedChunkSize, alignment: 16)
        defer { sealed.deallocate() }
        for index in 0..<3 {
            let range = (index * Wire.Files.chunkSize)..<min(Self.size, (index + 1) * Wire.Files.chunkSize)
            let length = bytes[range].withUnsafeBytes { cipher.seal($0, into: sealed, sha256: sha256, index: Int64(index), size: Int64(Self.size)) }
            stored += sealed[0..<length]
        }
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
}
