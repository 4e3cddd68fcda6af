import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Shared
import TestSupport
import Testing

/// The evidence-file admin commands on the real programs, while `serve` runs: the quota, the purge,
/// and chunks that pass a JSON body limit far below their size.
@Suite struct FileAdminTests {
    /// PUTs one chunk of `bytes` (named `sha256`) over real HTTP.
    static func put(_ server: RunningServer, token: String, sha256: String, bytes: [UInt8], index: Int) async throws -> (status: Int, body: Data) {
        let start = index * Wire.Files.chunkSize
        let chunk = Data(bytes[start..<min(start + Wire.Files.chunkSize, bytes.count)])
        var request = URLRequest(url: try #require(URL(string: "\(server.url)/v1/projects/kz/files/\(sha256)/chunks/\(index)")))
        request.httpMethod = "PUT"
        request.httpBody = chunk
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue(String(bytes.count), forHTTPHeaderField: Wire.Files.fileSizeHeader)
        request.setValue(SHA256.hash(data: chunk).map { String(format: "%02x", $0) }.joined(), forHTTPHeaderField: Wire.Files.chunkHashHeader)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    @Test(arguments: StoreKind.allCases) func quotaAndPurgeWorkWhileServingAndChunksPassASmallBodyLimit(store: StoreKind) async throws {
        let server = try RunningServer(store: store)
        defer { server.cleanUp() }
        let token = try #require(try server.setUp(users: [("ana", "researcher")])["ana"])
        try server.start(extra: ["--max-body-bytes", "1024"])
        let bytes = (0..<(Wire.Files.chunkSize + 300)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let sha256 = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()

        let set = try server.admin(["project", "quota", "kz", "4M"])
        #expect(set.code == 0, "\(set.stderr)")
        #expect(set.stdout.contains("4.0 MiB"))
        let refused = try await Self.put(server, token: token, sha256: sha256, bytes: bytes, index: 0)
        #expect(refused.status == 507, "\(String(decoding: refused.body, as: UTF8.self))")
        #expect(String(decoding: refused.body, as: UTF8.self).contains("quota_exceeded"))
        #expect(try server.admin(["project", "quota", "kz", "default"]).stdout.contains("(the default)"))
        for index in 0..<2 {
            let put = try await Self.put(server, token: token, sha256: sha256, bytes: bytes, index: index)
            #expect(put.status == 200, "chunk \(index): \(String(decoding: put.body, as: UTF8.self))")
        }
        let usage = try server.admin(["project", "quota", "kz", "--json"]).object()
        #expect(usage["used"] as? Int == bytes.count && usage["files"] as? Int == 1)

        // No record lists the file: a purge lists it, a dry run keeps it, a purge removes it, all while serving.
        let dry = try server.admin(["files", "purge", "--project", "kz", "--dry-run", "--json"])
        #expect(dry.code == 0, "\(dry.stderr)")
        #expect((try dry.object()["files"] as? [[String: Any]])?.first?["sha256"] as? String == sha256)
        let purged = try server.admin(["files", "purge", "--project", "kz"])
        #expect(purged.code == 0, "\(purged.stderr)")
        #expect(purged.stdout.contains(sha256) && purged.stdout.contains("removed 1 file(s)"))
        let status = try await RawRequestTests.send(server, "/v1/projects/kz/files/status", body: Data(#"{"files":["\#(sha256)"]}"#.utf8), token: token)
        #expect(String(decoding: status.body, as: UTF8.self).contains(#""received":0"#))
        #expect(try server.admin(["files", "purge", "--project", "nope"]).code == 1)
    }
}
