import Crypto
import Foundation
import NIOCore
import Shared

/// Uploads: every file held here that the server is not known to hold is asked about (in batches), and
/// sent chunk by chunk from what the server holds, a few chunks on their way at once. The next chunk is
/// read and checked while the ones before travel.
extension FileSyncer {
    /// Returns how many files were sent whole, how many bytes were sent, and the files that could not
    /// be sent because this replica's copy is damaged (the others are sent all the same).
    func upload() async throws -> (Int, Int64, [StoredFile.Damaged]) {
        let candidates = try await replica.filesNotOnServer()
        guard !candidates.isEmpty else { return (0, 0, []) }
        var toSend: [(sha256: String, size: Int64, received: Int64)] = []
        for start in stride(from: 0, to: candidates.count, by: Wire.Files.maxStatusBatch) {
            let batch = Array(candidates[start..<min(start + Wire.Files.maxStatusBatch, candidates.count)])
            let answer = try await transport.fileStatus(batch.map(\.sha256))
            guard answer.chunkSize == Wire.Files.chunkSize else {
                throw ClientError("the server at \(server) cuts files into chunks of \(answer.chunkSize) bytes, this casebook into \(Wire.Files.chunkSize): nothing was uploaded; use the same version as the server")
            }
            let sizes = Dictionary(batch.map { ($0.sha256, $0.size) }, uniquingKeysWith: { first, _ in first })
            for status in answer.files {
                guard let size = sizes[status.sha256] else { continue }
                if status.complete {
                    try await replica.markOnServer(status.sha256, uploadedHere: false, settings: settings)
                } else {
                    toSend.append((status.sha256, size, min(max(0, status.received), size)))
                }
            }
        }
        let total = toSend.reduce(Int64(0)) { $0 + $1.size - $1.received }
        var sent: Int64 = 0, files = 0, damaged: [StoredFile.Damaged] = []
        progress.start(bytes: 0)
        for file in toSend {
            do {
                sent += try await upload(file.sha256, size: file.size, from: file.received) { bytes in
                    progress.bytes("uploading \(toSend.count) file\(toSend.count == 1 ? "" : "s")", done: sent + bytes, total: total)
                }
            } catch let error as StoredFile.Damaged {
                damaged.append(error)
                continue
            }
            try await replica.markOnServer(file.sha256, uploadedHere: true, settings: settings)
            files += 1
        }
        return (files, sent, damaged)
    }

    /// Sends the file from the chunk holding `received` on, until the server says it holds it whole, with
    /// up to `transport.chunksInFlight` chunks on their way at once (the server answers them in order).
    /// Returns the bytes sent; `progress` receives them as they go.
    private func upload(_ sha256: String, size: Int64, from received: Int64, progress: (Int64) -> Void) async throws -> Int64 {
        let file = try StoredFile(store: replica.files, sha256: sha256, size: size)
        let depth = max(1, transport.chunksInFlight)
        var window = ChunkWindow(file: file, from: received / Int64(Wire.Files.chunkSize))
        defer { window.cancel() }
        var sent: Int64 = 0
        // Each chunk is sent at most a few times (a damaged transfer, the server asking for another one).
        while window.sends < 3 * file.chunkCount + 3 {
            while window.inFlight.count < depth, let chunk = try await window.nextChunk() {
                window.sent(chunk, transport.sendChunk(chunk))
            }
            guard let (chunk, answer) = window.inFlight.first else { break }
            window.inFlight.removeFirst()
            let put = try await answer.value
            switch put {
            case .stored(let answer) where answer.complete:
                return sent + Int64(chunk.bytes.readableBytes)
            case .stored(let answer) where answer.received == (chunk.index + 1) * Int64(Wire.Files.chunkSize):
                sent += Int64(chunk.bytes.readableBytes)
                progress(sent)
            case .stored(let answer):
                try await window.restart(at: try chunkHolding(answer.received, of: sha256, size: size))
            case .expects(let held):
                try await window.restart(at: try chunkHolding(held, of: sha256, size: size))
            case .corrupt:
                try await window.restart(at: chunk.index)
            }
        }
        throw ClientError("the server at \(server) did not take \(sha256.prefix(12)) whole after every chunk was sent: nothing is lost; sync again, and tell the server's admin if it persists")
    }

    /// The chunk to go on from when the server holds `held` bytes.
    private func chunkHolding(_ held: Int64, of sha256: String, size: Int64) throws -> Int64 {
        let chunkSize = Int64(Wire.Files.chunkSize)
        guard held >= 0, held < size || size == 0, held % chunkSize == 0 else {
            throw ClientError("the server at \(server) says it holds \(held) bytes of \(sha256.prefix(12)), which cannot be right for a file of \(size): tell the server's admin")
        }
        return held / chunkSize
    }

    /// Reads and checks chunk `index` (and hashes it) off the caller's path.
    static func prepare(_ file: StoredFile, _ index: Int64) -> Task<OutgoingChunk, any Error> {
        Task {
            let bytes = try file.chunkBuffer(index)
            let hash = bytes.withUnsafeReadableBytes { Hex.encode(Array(SHA256.hash(data: $0))) }
            return OutgoingChunk(sha256: file.sha256, index: index, size: file.size, bytes: bytes, hash: hash)
        }
    }
}
