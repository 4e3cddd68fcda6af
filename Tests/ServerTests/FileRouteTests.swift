import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// The evidence-file endpoints, case by case as docs/protocol.md lists them, on both stores.
@Suite struct FileRouteTests {
    @Test(arguments: StoreKind.allCases) func aFileUploadedInChunksIsServedBackWholeWithAReceivedEvent(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let file = TestFile(size: twoChunks)
        try await harness.app.test(.router) { client in
            #expect(try await harness.fileStatus(client, as: "vera", [file.sha256]) == [Wire.FileStatus(sha256: file.sha256, received: 0, complete: false)])
            let first = try await harness.putChunk(client, as: "ana", file, 0)
            #expect(try first.decode(Wire.ChunkResponse.self) == Wire.ChunkResponse(received: Int64(Wire.Files.chunkSize), complete: false))
            #expect(try await harness.fileStatus(client, as: "vera", [file.sha256]).first?.received == Int64(Wire.Files.chunkSize))
            #expect(try await harness.upload(client, as: "ana", file, from: 1) == Wire.ChunkResponse(received: file.size, complete: true))
            #expect(try await harness.fileStatus(client, as: "vera", [file.sha256]) == [Wire.FileStatus(sha256: file.sha256, received: file.size, complete: true)])

            #expect(try await harness.download(client, as: "vera", file) == file.bytes)
            let custody = try await harness.custody(client, as: "vera")
            #expect(custody.events.map(\.event) == [.received])
            #expect(custody.events.first?.by == "ana")
            #expect(custody.events.first?.size == file.size)
            #expect(custody.events.first?.seq == 1)
            #expect(custody.events.first?.at == ServerHarness.now)
            #expect(try await harness.pull(client, as: "vera").custodySeq == 1)
        }
    }

    @Test(arguments: StoreKind.allCases) func anEmptyFileIsOneEmptyChunk(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let file = TestFile(size: 0)
        try await harness.app.test(.router) { client in
            let answer = try await harness.upload(client, as: "ana", file)
            #expect(answer == Wire.ChunkResponse(received: 0, complete: true))
            #expect(try await harness.download(client, as: "bek", file) == [])
        }
    }

    @Test(arguments: StoreKind.allCases) func viewersReadButDoNotUploadAndOutsidersGetNothing(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let file = TestFile(size: 1_000)
        try await harness.app.test(.router) { client in
            let viewer = try await harness.putChunk(client, as: "vera", file, 0)
            #expect(viewer.status == .forbidden)
            #expect(viewer.error?.message.contains("viewer") == true)
            try await harness.upload(client, as: "admin", file)
            #expect(try await harness.download(client, as: "vera", file) == file.bytes)
            #expect(try await harness.postCustody(client, as: "vera", [Self.event("v1", file, .downloaded)]).status == .ok)

            // olga belongs to another project: every file endpoint of kz is 403 to her, as any other of kz.
            let body = ByteBuffer(bytes: try JSONEncoder().encode(Wire.FileStatusRequest(files: [file.sha256])))
            let requests: [(String, HTTPRequest.Method, ByteBuffer?)] = [
                ("/v1/projects/kz/files/status", .post, body), ("/v1/projects/kz/files/\(file.sha256)/chunks/0", .get, nil),
                ("/v1/projects/kz/custody", .get, nil), ("/v1/projects/kz/custody", .post, ByteBuffer(string: #"{"events":[]}"#)),
            ]
            for (uri, method, body) in requests {
                let outsider = try await client.execute(uri: uri, method: method, headers: harness.headers("olga"), body: body)
                #expect(outsider.status == .forbidden, "\(method) \(uri)")
                let anonymous = try await client.execute(uri: uri, method: method, headers: harness.headers(nil), body: body)
                #expect(anonymous.status == .unauthorized, "\(method) \(uri)")
            }
            #expect(try await harness.putChunk(client, as: "olga", file, 0).status == .forbidden)
            // Her own project has no such file: a hash alone reaches nothing across projects.
            let own = try await client.execute(uri: "/v1/projects/other/files/\(file.sha256)/chunks/0", method: .get, headers: harness.headers("olga"))
            #expect(own.status == .notFound)
            #expect(own.error?.code == "not_found")
        }
    }

    @Test(arguments: StoreKind.allCases) func malformedPathsAndHeadersAreBadRequests(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let file = TestFile(size: 1_000)
        try await harness.app.test(.router) { client in
            let upper = file.sha256.uppercased()
            let cases: [(String, TestResponse)] = [
                ("upper-case hash", try await harness.putChunk(client, as: "ana", file, 0, sha256: upper)),
                ("short hash", try await harness.putChunk(client, as: "ana", file, 0, sha256: String(file.sha256.dropLast()))),
                ("size too large", try await harness.putChunk(client, as: "ana", file, 0, size: FileRef.maxSize + 1)),
                ("negative size", try await harness.putChunk(client, as: "ana", file, 0, size: -1)),
                ("bad chunk hash", try await harness.putChunk(client, as: "ana", file, 0, chunkHash: "abc")),
            ]
            for (what, response) in cases {
                #expect(response.status == .badRequest, "\(what)")
                #expect(response.error?.code == "bad_request", "\(what)")
            }
            for index in ["-1", "+1", "x", "1.5", "99999999999999999999"] {
                var headers = harness.headers("ana")
                headers[HTTPField.Name(Wire.Files.fileSizeHeader)!] = "1000"
                headers[HTTPField.Name(Wire.Files.chunkHashHeader)!] = file.chunkHash(0)
                let put = try await client.execute(uri: "/v1/projects/kz/files/\(file.sha256)/chunks/\(index)", method: .put, headers: headers, body: file.chunk(0))
                #expect(put.status == .badRequest, "index \(index)")
                let get = try await client.execute(uri: "/v1/projects/kz/files/\(file.sha256)/chunks/\(index)", method: .get, headers: harness.headers("ana"))
                #expect(get.status == .badRequest, "index \(index)")
            }
            var noSize = harness.headers("ana")
            noSize[HTTPField.Name(Wire.Files.chunkHashHeader)!] = file.chunkHash(0)
            let missing = try await client.execute(uri: "/v1/projects/kz/files/\(file.sha256)/chunks/0", method: .put, headers: noSize, body: file.chunk(0))
            #expect(missing.status == .badRequest)
            let badStatus = ByteBuffer(bytes: try JSONEncoder().encode(Wire.FileStatusRequest(files: [upper])))
            #expect(try await client.execute(uri: "/v1/projects/kz/files/status", method: .post, headers: harness.headers("ana"), body: badStatus).status == .badRequest)
            let tooMany = ByteBuffer(bytes: try JSONEncoder().encode(Wire.FileStatusRequest(files: Array(repeating: file.sha256, count: 1_001))))
            #expect(try await client.execute(uri: "/v1/projects/kz/files/status", method: .post, headers: harness.headers("ana"), body: tooMany).status == .badRequest)
            #expect(try await harness.fileStatus(client, as: "ana", Array(repeating: file.sha256, count: 1_000)).count == 1_000)
        }
    }

    @Test(arguments: StoreKind.allCases) func chunksAreCheckedInTheProtocolsOrder(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let file = TestFile(size: 2 * Wire.Files.chunkSize + 10)
        try await harness.app.test(.router) { client in
            let ahead = try await harness.putChunk(client, as: "ana", file, 1)
            #expect(ahead.status == .conflict)
            #expect(ahead.headers[HTTPField.Name(Wire.Files.receivedHeader)!] == "0")
            let short = try await harness.putChunk(client, as: "ana", file, 0, body: ByteBuffer(bytes: file.bytes[0..<100]))
            #expect(short.status == .unprocessableContent)
            #expect(short.error?.code == "chunk_corrupt")
            var tampered = file.chunk(0)
            tampered.setInteger(UInt8(7) ^ tampered.getInteger(at: 500)!, at: 500)
            let damaged = try await harness.putChunk(client, as: "ana", file, 0, body: tampered)
            #expect(damaged.status == .unprocessableContent)
            #expect(damaged.error?.code == "chunk_corrupt")
            var longer = file.chunk(0)
            longer.writeBytes([1, 2, 3])
            #expect(try await harness.putChunk(client, as: "ana", file, 0, body: longer).error?.code == "chunk_corrupt")
            #expect(try await harness.fileStatus(client, as: "ana", [file.sha256]).first?.received == 0)  // nothing kept

            #expect(try await harness.putChunk(client, as: "ana", file, 0).status == .ok)
            let again = try await harness.putChunk(client, as: "bek", file, 0)
            #expect(try again.decode(Wire.ChunkResponse.self) == Wire.ChunkResponse(received: Int64(Wire.Files.chunkSize), complete: false))
            let resized = try await harness.putChunk(client, as: "ana", file, 1, size: file.size + 1)
            #expect(resized.status == .conflict)
            #expect(resized.error?.message.contains("\(file.size)") == true)
            let skipping = try await harness.putChunk(client, as: "ana", file, 2)
            #expect(skipping.status == .conflict)
            #expect(skipping.headers[HTTPField.Name(Wire.Files.receivedHeader)!] == String(Wire.Files.chunkSize))
            // A damaged chunk of an upload under way (its hash checked beside its write on the embedded
            // store), then a damaged last chunk: refused, nothing of either counts, and the right ones go on.
            var damagedNext = file.chunk(1)
            damagedNext.setInteger(UInt8(7) ^ damagedNext.getInteger(at: 9)!, at: 9)
            #expect(try await harness.putChunk(client, as: "ana", file, 1, body: damagedNext).error?.code == "chunk_corrupt")
            #expect(try await harness.fileStatus(client, as: "ana", [file.sha256]).first?.received == Int64(Wire.Files.chunkSize))
            #expect(try await harness.putChunk(client, as: "ana", file, 1).status == .ok)
            var damagedLast = file.chunk(2)
            damagedLast.setInteger(UInt8(7) ^ damagedLast.getInteger(at: 9)!, at: 9)
            #expect(try await harness.putChunk(client, as: "ana", file, 2, body: damagedLast).error?.code == "chunk_corrupt")
            #expect(try await harness.fileStatus(client, as: "ana", [file.sha256]).first?.received == Int64(2 * Wire.Files.chunkSize))
            #expect(try await harness.upload(client, as: "ana", file, from: 2).complete)

            // Complete: any chunk again is a no-op that says so, even a damaged one.
            let done = try await harness.putChunk(client, as: "bek", file, 0, body: tampered)
            #expect(try done.decode(Wire.ChunkResponse.self) == Wire.ChunkResponse(received: file.size, complete: true))
            #expect(try await harness.custody(client, as: "ana").events.count == 1)
            #expect(try await harness.download(client, as: "bek", file) == file.bytes)
        }
    }

    @Test(arguments: StoreKind.allCases) func aChunkSetThatDoesNotHashToItsNameIsDropped(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let real = TestFile(size: twoChunks, seed: 1)
        let forged = TestFile(size: twoChunks, seed: 2)
        try await harness.app.test(.router) { client in
            // Each chunk is intact (its own hash holds), but the whole is not the file it claims to be.
            #expect(try await harness.putChunk(client, as: "ana", forged, 0, sha256: real.sha256).status == .ok)
            let last = try await harness.putChunk(client, as: "ana", forged, 1, sha256: real.sha256)
            #expect(last.status == .unprocessableContent)
            #expect(last.error?.code == "hash_mismatch")
            #expect(try await harness.fileStatus(client, as: "ana", [real.sha256]).first == Wire.FileStatus(sha256: real.sha256, received: 0, complete: false))
            let get = try await client.execute(uri: "/v1/projects/kz/files/\(real.sha256)/chunks/0", method: .get, headers: harness.headers("ana"))
            #expect(get.status == .notFound)
            #expect(try await harness.custody(client, as: "ana").events.isEmpty)
            // The real file goes up afterwards from the start.
            #expect(try await harness.upload(client, as: "bek", real).complete)
            #expect(try await harness.download(client, as: "ana", real) == real.bytes)
        }
    }

    @Test(arguments: StoreKind.allCases) func aFullDiskKeepsNothingOfTheChunkAndARetryWorks(store: StoreKind) async throws {
        let harness = try await ServerHarness(store: store)
        defer { harness.cleanUp() }
        let file = TestFile(size: twoChunks)
        try await harness.app.test(.router) { client in
            #expect(try await harness.putChunk(client, as: "ana", file, 0).status == .ok)
            harness.faults.failNext("file-write")
            let full = try await harness.putChunk(client, as: "ana", file, 1)
            #expect(full.status.code == 507)
            #expect(full.error?.code == "insufficient_storage")
            #expect(try await harness.fileStatus(client, as: "ana", [file.sha256]).first?.received == Int64(Wire.Files.chunkSize))
            #expect(try await harness.upload(client, as: "ana", file, from: 1).complete)
            #expect(try await harness.download(client, as: "ana", file) == file.bytes)
        }
    }

    static func event(_ id: String, _ file: TestFile, _ kind: Wire.CustodyKind, at: UInt64 = ServerHarness.now - 5_000) -> Wire.CustodyEvent {
        Wire.CustodyEvent(id: id, sha256: file.sha256, event: kind, by: "claimed", at: at, record: kind == .added ? recordA : nil,
                          name: kind == .added ? "photo.jpg" : nil, size: kind == .added ? file.size : nil, replica: "000000000000000a")
    }
}
