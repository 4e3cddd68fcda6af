import Foundation
import Shared

/// The chunks of one upload on their way to the server, oldest first, and the next one being read
/// and hashed meanwhile (`FileSyncer.upload`). When an answer is not the one expected, the chunks
/// sent after it are answered before the upload goes on from where the server says.
struct ChunkWindow {
    let file: StoredFile
    /// Sent and not answered yet, in the order sent.
    var inFlight: [(chunk: OutgoingChunk, answer: Task<ChunkPut, any Error>)] = []
    /// How many chunks were sent (resends included).
    private(set) var sends = 0
    /// The next chunk to send.
    private var next: Int64
    private var reading: Task<OutgoingChunk, any Error>?

    init(file: StoredFile, from index: Int64) {
        self.file = file
        next = index
        reading = FileSyncer.prepare(file, index)
    }

    /// The next chunk to send, read and hashed; nil once every chunk was sent.
    mutating func nextChunk() async throws -> OutgoingChunk? {
        guard next < file.chunkCount, let reading else { return nil }
        let chunk = try await reading.value
        next += 1
        self.reading = next < file.chunkCount ? FileSyncer.prepare(file, next) : nil
        return chunk
    }

    mutating func sent(_ chunk: OutgoingChunk, _ answer: Task<ChunkPut, any Error>) {
        inFlight.append((chunk, answer))
        sends += 1
    }

    /// Waits for the answers to the chunks still on their way (the server answers them in order, and
    /// they can tell nothing new: they were sent after one it did not take), then goes on from `index`.
    mutating func restart(at index: Int64) async throws {
        for (_, answer) in inFlight { _ = try? await answer.value }
        inFlight.removeAll()
        if index != next {
            reading?.cancel()
            next = index
            reading = FileSyncer.prepare(file, index)
        }
    }

    /// Stops reading ahead (the answers still awaited are left to arrive).
    func cancel() {
        reading?.cancel()
    }
}
