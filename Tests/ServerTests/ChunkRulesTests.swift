import Foundation
import Testing
@testable import Server
@testable import Shared

/// The pure parts of evidence files: the order of a chunk's checks, sizes, and what a purge keeps.
@Suite struct ChunkRulesTests {
    static let chunk = Int64(Wire.Files.chunkSize)
    static let usage = FileUsage(quota: 100 * chunk, used: 0, files: 0, isDefault: false)

    func upload(_ index: Int64, size: Int64 = 3 * chunk, problem: String? = nil) -> ChunkUpload {
        var upload = ChunkUpload(sha256: String(repeating: "a", count: 64), index: index, size: size, chunkHash: String(repeating: "b", count: 64))
        upload.bodyProblem = problem
        return upload
    }

    @Test func theChecksComeInTheProtocolsOrder() {
        let held = StoredFile(size: 3 * Self.chunk, received: Self.chunk, complete: false, upload: "u")
        let complete = StoredFile(size: 3 * Self.chunk, received: 3 * Self.chunk, complete: true, upload: "u")
        // A complete file answers before anything else, even a different size or a damaged body.
        #expect(ChunkRules.check(complete, upload(0, size: 7, problem: "damaged"), usage: Self.usage) == .held(received: 3 * Self.chunk, complete: true))
        #expect(ChunkRules.check(held, upload(1, size: 7, problem: "damaged"), usage: Self.usage) == .sizeConflict(declared: 3 * Self.chunk))
        #expect(ChunkRules.check(held, upload(2, problem: "damaged"), usage: Self.usage) == .ahead(received: Self.chunk))
        #expect(ChunkRules.check(held, upload(0, problem: "damaged"), usage: Self.usage) == .held(received: Self.chunk, complete: false))
        #expect(ChunkRules.check(held, upload(1, problem: "damaged"), usage: Self.usage) == .corrupt("damaged"))
        #expect(ChunkRules.check(held, upload(1), usage: Self.usage) == nil)
        #expect(ChunkRules.check(nil, upload(1), usage: Self.usage) == .ahead(received: 0))
        #expect(ChunkRules.check(nil, upload(0), usage: Self.usage) == nil)
    }

    @Test func theQuotaIsCheckedOnANewFileOnlyAgainstItsDeclaredSize() {
        let full = FileUsage(quota: 10 * Self.chunk, used: 8 * Self.chunk, files: 2, isDefault: false)
        #expect(ChunkRules.check(nil, upload(0), usage: full) == .quotaExceeded(quota: 10 * Self.chunk, used: 8 * Self.chunk, size: 3 * Self.chunk))
        #expect(ChunkRules.check(nil, upload(0, size: 2 * Self.chunk), usage: full) == nil)  // exactly at the quota
        #expect(ChunkRules.check(nil, upload(0, problem: "short"), usage: full) == .corrupt("short"))  // the body first
        let started = StoredFile(size: 3 * Self.chunk, received: Self.chunk, complete: false, upload: "u")
        #expect(ChunkRules.check(started, upload(1), usage: full) == nil)  // already counted
    }

    @Test func aBodyIsCheckedForItsLengthThenItsHash() {
        #expect(ChunkRules.bodyProblem(length: 10, expected: 10, hash: "x", declared: "x") == nil)
        #expect(ChunkRules.bodyProblem(length: 9, expected: 10, hash: "x", declared: "x")?.contains("9") == true)
        #expect(ChunkRules.bodyProblem(length: 11, expected: 10, hash: "x", declared: "x")?.contains("more than 10") == true)
        #expect(ChunkRules.bodyProblem(length: 10, expected: 10, hash: "x", declared: "y")?.contains(Wire.Files.chunkHashHeader) == true)
    }

    @Test func sizesReadAndWriteAsPeopleDo() {
        #expect(FileUsage.parseSize("1024") == 1024)
        #expect(FileUsage.parseSize("500M") == 500 << 20)
        #expect(FileUsage.parseSize("2GiB") == 2 << 30)
        #expect(FileUsage.parseSize("1.5t") == 3 << 39)
        #expect(FileUsage.parseSize("10kb") == 10 << 10)
        for bad in ["", "G", "-1G", "1e3", "12X", "ten", "99999999999T"] { #expect(FileUsage.parseSize(bad) == nil, "\(bad)") }
        #expect(FileUsage.describe(512) == "512 bytes")
        #expect(FileUsage.describe(3 << 20) == "3.0 MiB")
        #expect(FileUsage.describe(100 << 30) == "100.0 GiB")
    }

    @Test func aPurgeKeepsTheFilesOfLiveRecordsAndOfContestedDeletions() throws {
        let hashes = (1...4).map { String(repeating: String($0), count: 64) }
        func files(_ hash: String) -> String { StorageText.encode(.files([FileRef(sha256: hash, name: "a.jpg", size: 1, mime: "image/jpeg")])) }
        let conflict = Conflict(collection: "incidents", record: "r3", field: Change.deletedField, versions: [])
        let open = String(decoding: try JSONEncoder().encode(Wire.ConflictState(conflict: conflict, open: true)), as: UTF8.self)
        let closed = String(decoding: try JSONEncoder().encode(Wire.ConflictState(conflict: conflict, open: false)), as: UTF8.self)
        let live = try FileReferences.live(
            fileHeads: [("r1", files(hashes[0])), ("r2", files(hashes[1])), ("r3", files(hashes[2])), ("r4", files(hashes[3]))],
            deletionHeads: [("r2", "b:1"), ("r3", "b:1"), ("r4", "b:1"), ("r4", "b:0"), ("r1", "b:0")],
            deletionConflicts: [("r3", open), ("r2", closed)])
        // r1 restored, r2 deleted, r3 deleted while edited (open conflict), r4 deleted on one side only.
        #expect(live == [hashes[0], hashes[2], hashes[3]])
        #expect(throws: StoreDefect.self) { try FileReferences.live(fileHeads: [("r1", "f:[{")], deletionHeads: [], deletionConflicts: []) }
    }
}
