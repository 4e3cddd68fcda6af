import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Shared

// Chunks: an upload is checked in the protocol's order (`ChunkRules`); its body is read only when the
// file's state does not answer alone, and never beyond the chunk's length plus one byte, whatever the
// server's JSON body limit (a chunk may be larger than that limit, and nothing else may).
extension FileController {
    func putChunk(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = SyncController.projectName(context)
        let (user, membership) = try await guardian.authorize(request, context: context, project: project, push: false)
        guard membership.role.canPush else {
            throw APIError.forbidden("'\(user.name)' is a viewer of '\(project)': viewers may download files but not upload them; ask the admin for the researcher role")
        }
        var upload = try Self.chunkUpload(request, context)
        if let answer = ChunkRules.beforeBody(try await store.storedFile(project: project, sha256: upload.sha256), upload) {
            return try Self.response(answer, upload: upload)
        }
        try await Self.readBody(request, into: &upload)
        let answer = try await store.putChunk(project: project, upload: upload, user: user.name, now: settings.clock())
        context.logger.info("chunk", metadata: [
            "project": "\(project)", "user": "\(user.name)", "file": "\(upload.sha256.prefix(12))", "index": "\(upload.index)", "answer": "\(answer)",
        ])
        return try Self.response(answer, upload: upload)
    }

    func getChunk(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let project = SyncController.projectName(context)
        let (_, membership) = try await guardian.authorize(request, context: context, project: project, push: false)
        let (sha256, index) = try Self.fileAndIndex(context)
        // A file only records the reader may not read name is answered as one the project does not hold.
        guard try await store.mayReadFile(project: project, sha256: sha256, reader: membership.access),
              let chunk = try await store.chunk(project: project, sha256: sha256, index: index) else {
            throw APIError(status: .notFound, code: "not_found", message: "project '\(project)' has no complete file \(sha256) with a chunk \(index)")
        }
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        headers[HTTPField.Name(Wire.Files.fileSizeHeader)!] = String(chunk.size)
        // The hash the chunk had when it arrived, so that a chunk damaged on this server's disk since is
        // refused by the client; hashed now only for a file stored without it.
        headers[HTTPField.Name(Wire.Files.chunkHashHeader)!] = chunk.storedHash ?? Self.hash(chunk.bytes)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: chunk.bytes))
    }

    /// The file and chunk the path names, or 400.
    static func fileAndIndex(_ context: AppRequestContext) throws -> (String, Int64) {
        let sha256 = context.parameters.get("sha256") ?? ""
        guard FileRef.isSHA256(sha256) else {
            throw APIError.badRequest("'\(sha256.prefix(80))' is not a file's name: files are named by their SHA-256, 64 lower-case hex digits")
        }
        let text = context.parameters.get("index") ?? ""
        guard !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }), let index = Int64(text) else {
            throw APIError.badRequest("the chunk index '\(text.prefix(40))' is not a whole number of 0 or more")
        }
        return (sha256, index)
    }

    /// The upload the path and headers describe, or 400.
    static func chunkUpload(_ request: Request, _ context: AppRequestContext) throws -> ChunkUpload {
        let (sha256, index) = try fileAndIndex(context)
        let sizeText = request.headers[HTTPField.Name(Wire.Files.fileSizeHeader)!]
        guard let sizeText, let size = Int64(sizeText), (0...FileRef.maxSize).contains(size) else {
            throw APIError.badRequest("the header \(Wire.Files.fileSizeHeader) must give the whole file's size in bytes, 0 to \(FileRef.maxSize)")
        }
        guard let chunkHash = request.headers[HTTPField.Name(Wire.Files.chunkHashHeader)!], FileRef.isSHA256(chunkHash) else {
            throw APIError.badRequest("the header \(Wire.Files.chunkHashHeader) must give the chunk's SHA-256, 64 lower-case hex digits")
        }
        return ChunkUpload(sha256: sha256, index: index, size: size, chunkHash: chunkHash)
    }

    /// Reads the body into `upload` (at most the chunk's length plus one byte) and notes what is
    /// wrong with its length, if anything, and starts hashing it (`ChunkUpload.settleHash`).
    static func readBody(_ request: Request, into upload: inout ChunkUpload) async throws {
        guard let expected = upload.expectedLength else {
            upload.bodyProblem = "the file has no chunk \(upload.index)"
            return
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length != expected {
            upload.bodyProblem = ChunkRules.bodyProblem(length: length, expected: expected, hash: "", declared: upload.chunkHash)
            return
        }
        var buffer = ByteBufferAllocator().buffer(capacity: expected)
        for try await part in request.body {
            buffer.writeImmutableBuffer(part)
            if buffer.readableBytes > expected { break }
        }
        upload.bytes = buffer
        if buffer.readableBytes != expected {
            upload.bodyProblem = ChunkRules.bodyProblem(length: buffer.readableBytes, expected: expected, hash: "", declared: upload.chunkHash)
            return
        }
        // Hashed on another thread: the store reads the file's row, and may write the chunk, meanwhile.
        upload.pendingHash = Task { [buffer] in hash(buffer) }
    }

    static func hash(_ bytes: ByteBuffer) -> String {
        bytes.withUnsafeReadableBytes { SHA256.hash(data: $0) }.hex
    }

    /// The HTTP answer to a chunk upload.
    static func response(_ answer: ChunkAnswer, upload: ChunkUpload) throws -> Response {
        switch answer {
        case .held(let received, let complete):
            return try JSONResponse.make(Wire.ChunkResponse(received: received, complete: complete))
        case .sizeConflict(let declared):
            throw APIError(status: .conflict, code: "conflict",
                           message: "this file's earlier chunks declared \(declared) bytes before, this one \(upload.size): a file's size cannot change (is it the right file?)")
        case .ahead(let received):
            let next = received / Int64(Wire.Files.chunkSize)
            var error = APIError(status: .conflict, code: "conflict",
                                 message: "the server holds \(received) bytes of this file: send chunk \(next) next, not \(upload.index)")
            error.headers[HTTPField.Name(Wire.Files.receivedHeader)!] = String(received)
            throw error
        case .corrupt(let problem):
            throw APIError.unprocessable(problem, code: "chunk_corrupt")
        case .hashMismatch:
            throw APIError.unprocessable("the chunks do not hash to the file's name \(upload.sha256): the server dropped them; check the file, then upload it again from chunk 0",
                                         code: "hash_mismatch")
        case .quotaExceeded(let quota, let used, let size):
            throw APIError(status: .insufficientStorage, code: "quota_exceeded",
                           message: "the project's files may take \(FileUsage.describe(quota)) and take \(FileUsage.describe(used)): this file (\(FileUsage.describe(size))) would go over; ask the server's admin to raise the quota (casebook-server project quota) or purge files no record uses (casebook-server files purge)")
        }
    }
}
