import Foundation
import NIOCore
import Shared

extension PostgresSyncStore {
    func fileStatus(project: String, hashes: [String]) async throws -> [Wire.FileStatus] { throw StoreError.unavailable("not yet") }
    func storedFile(project: String, sha256: String) async throws -> StoredFile? { throw StoreError.unavailable("not yet") }
    func putChunk(project: String, upload: ChunkUpload, user: String, now: UInt64) async throws -> ChunkAnswer { throw StoreError.unavailable("not yet") }
    func chunk(project: String, sha256: String, index: Int64) async throws -> (bytes: ByteBuffer, size: Int64)? { throw StoreError.unavailable("not yet") }
    func appendCustody(project: String, events: [Wire.CustodyEvent], user: String, now: UInt64) async throws -> Int { throw StoreError.unavailable("not yet") }
    func custody(project: String, after: Int64, limit: Int) async throws -> Wire.CustodyPage { throw StoreError.unavailable("not yet") }
    func fileUsage(project: String) async throws -> FileUsage { throw StoreError.unavailable("not yet") }
    func setFileQuota(project: String, bytes: Int64?) async throws { throw StoreError.unavailable("not yet") }
    func purgeFiles(project: String, dryRun: Bool) async throws -> FilePurge { throw StoreError.unavailable("not yet") }
}
