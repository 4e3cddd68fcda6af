import Foundation
@testable import DiskIO
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// The embedded store's evidence chunks go past the page cache (`DirectIO`): the bytes are exact, the
/// file ends where the file does (the padded last block cut off), nothing of it stays in the page
/// cache, and a file system that refuses direct I/O still gets every byte.
@Suite struct DirectIOTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-direct-\(UUID().uuidString)")

    @Test func chunksWrittenAndReadBackAreExactAndStayOutOfThePageCache() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = FileFolder(root: root)
        let path = folder.partial("kz", String(repeating: "a", count: 64), upload: "u1")
        let size = 2 * Wire.Files.chunkSize + 3 * DirectIO.alignment + 17
        let file = TestFile(size: size, seed: 7)
        for index in 0..<3 {
            let range = (index * Wire.Files.chunkSize)..<min(size, (index + 1) * Wire.Files.chunkSize)
            try folder.write(ByteBuffer(bytes: file.bytes[range]), to: path, at: Int64(range.lowerBound), flush: index == 2)
        }
        #expect(folder.length(path) == Int64(size))
        var read: [UInt8] = []
        for index in 0..<3 {
            let length = min(Wire.Files.chunkSize, size - index * Wire.Files.chunkSize)
            let chunk = try #require(try folder.read(path, offset: Int64(index * Wire.Files.chunkSize), length: length))
            read += chunk.readableBytesView
        }
        #expect(read == file.bytes)
        // A chunk asked beyond the end is missing, not padding.
        #expect(try folder.read(path, offset: Int64(2 * Wire.Files.chunkSize), length: Wire.Files.chunkSize) == nil)
        guard PageCache.directWritesBypassIt(root) else { return }  // the fallback is tested below
        #expect(PageCache.residentPages(path) == 0)
    }

    @Test func rewritingFromAChunkCutsWhatFollowedIt() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = FileFolder(root: root)
        let path = root.appendingPathComponent("f").path
        let first = TestFile(size: 2 * Wire.Files.chunkSize, seed: 1), second = TestFile(size: 100, seed: 2)
        try folder.write(ByteBuffer(bytes: first.bytes), to: path, at: 0, flush: false)
        try folder.write(ByteBuffer(bytes: second.bytes), to: path, at: Int64(Wire.Files.chunkSize))
        #expect(folder.length(path) == Int64(Wire.Files.chunkSize + 100))
        let tail = try #require(try folder.read(path, offset: Int64(Wire.Files.chunkSize), length: 100))
        #expect(Array(tail.readableBytesView) == second.bytes)
    }

    @Test func aWriteOrReadTheFileSystemRefusesDirectlyGoesThroughThePageCache() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        // Where direct writes do not bypass the page cache (tmpfs takes even unaligned ones, and a file
        // system without direct I/O has nothing to refuse), there is no refusal to fall back from.
        guard PageCache.directWritesBypassIt(root) else { return }
        let path = root.appendingPathComponent("f").path
        let fd = DirectIO.openPreferringDirect(path, O_RDWR | O_CREAT | O_EXCL)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(DirectIO.isDirect(fd))
        // 100 bytes is no whole block: the direct write is refused, the bytes go through the page cache.
        let bytes = TestFile(size: 100, seed: 3).bytes
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: DirectIO.alignment, alignment: DirectIO.alignment)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        try DirectIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<100]), at: 0)
        #expect(!DirectIO.isDirect(fd))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
        // A read into memory that is not aligned, on a new direct descriptor.
        let reader = DirectIO.openPreferringDirect(path, O_RDONLY)
        try #require(reader >= 0)
        defer { close(reader) }
        #expect(DirectIO.isDirect(reader))
        let target = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 * DirectIO.alignment, alignment: DirectIO.alignment)
        defer { target.deallocate() }
        let got = try DirectIO.readAll(reader, into: UnsafeMutableRawBufferPointer(rebasing: target[1..<(1 + DirectIO.alignment)]), at: 0)
        #expect(got == 100)
        #expect(Array(target[1...100]) == bytes)
        #expect(!DirectIO.isDirect(reader))
    }

    /// The rule behind the shared readers, without their timing: after EINVAL on a descriptor whose
    /// `O_DIRECT` another reader already cleared, try once more through the page cache; a second EINVAL
    /// there is the error's own.
    @Test func aRefusalAfterAnotherReaderClearedDirectIOIsTriedOnceThroughThePageCache() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let fd = open(root.appendingPathComponent("f").path, O_RDWR | O_CREAT, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(!DirectIO.isDirect(fd))
        var retried = false
        #expect(DirectIO.fallBack(fd, retried: &retried))
        #expect(!DirectIO.fallBack(fd, retried: &retried))
        // A read the page cache refuses too (a negative offset) is thrown, after that one retry.
        let target = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 16)
        defer { target.deallocate() }
        #expect(throws: DirectIO.Failure.self) { try DirectIO.readAll(fd, into: target, at: -1) }
    }

    /// Several tasks reading one descriptor: each refused direct read falls back, whichever task cleared
    /// `O_DIRECT` first (one that found it cleared by another used to throw EINVAL).
    @Test func readersSharingADescriptorAllFallBackWhenDirectReadsAreRefused() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        guard PageCache.directWritesBypassIt(root) else { return }
        let path = root.appendingPathComponent("f").path
        let bytes = TestFile(size: 64 * 1024, seed: 4).bytes
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        for _ in 0..<20 {
            let fd = DirectIO.openPreferringDirect(path, O_RDONLY)
            try #require(fd >= 0)
            defer { close(fd) }
            // Offsets that are no whole block: every direct read is refused.
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for reader in 0..<8 {
                    group.addTask {
                        let offset = 1 + reader * 1_000
                        let target = UnsafeMutableRawBufferPointer.allocate(byteCount: 1_000, alignment: DirectIO.alignment)
                        defer { target.deallocate() }
                        let got = try DirectIO.readAll(fd, into: target, at: Int64(offset))
                        return got == 1_000 && Array(target) == Array(bytes[offset..<offset + 1_000])
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results == Array(repeating: true, count: 8))
        }
    }
}
