import CDeflate

/// Raw deflate (RFC 1951, zlib at level 6) of one stream fed a piece at a time: what a bundle seals.
/// The stream state lives at a fixed address, as zlib requires.
package final class Deflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    /// Whether zlib took the stream (only then is there anything for `deflateEnd` to free).
    private var started = false

    package init() throws {
        stream.initialize(to: z_stream())
        guard deflateInit2_(stream, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw BundleError("could not start compressing the bundle (zlib): nothing was written")
        }
        started = true
    }

    deinit {
        if started { deflateEnd(stream) }
        stream.deallocate()
    }

    /// The compressed bytes `input` adds to the stream (often none until zlib's window fills); with
    /// `finish`, the rest of the stream and its end.
    package func compress(_ input: [UInt8], finish: Bool = false) throws -> [UInt8] {
        try run(input, flush: finish ? Z_FINISH : Z_NO_FLUSH)
    }

    /// The compressed bytes of `input` and of everything before it, without ending the stream (a
    /// sync flush): what a writer cut off before its end would have left.
    package func compressUnfinished(_ input: [UInt8]) throws -> [UInt8] {
        try run(input, flush: Z_SYNC_FLUSH)
    }

    private func run(_ input: [UInt8], flush: Int32) throws -> [UInt8] {
        var output: [UInt8] = []
        try input.withUnsafeBufferPointer { source in
            // zlib reads `next_in` and never writes through it.
            stream.pointee.next_in = source.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
            stream.pointee.avail_in = UInt32(source.count)
            defer { stream.pointee.next_in = nil }
            while true {
                let (code, produced) = buffer.withUnsafeMutableBufferPointer { out in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = UInt32(out.count)
                    let code = deflate(stream, flush)
                    return (code, out.count - Int(stream.pointee.avail_out))
                }
                output += buffer[0..<produced]
                if code == Z_STREAM_END { break }
                guard code == Z_OK || code == Z_BUF_ERROR else { throw BundleError("compressing the bundle failed (zlib \(code)): nothing was written") }
                // Short of the end, done once the input is taken and the output buffer was not filled.
                if flush != Z_FINISH && stream.pointee.avail_in == 0 && produced < buffer.count { break }
            }
        }
        return output
    }
}

/// The reverse of `Deflater`: fed compressed bytes as they come, gives at most `limit` bytes at a
/// time, so a small input that expands hugely is never held whole.
package final class Inflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var started = false
    private var input: [UInt8] = []
    private var inputOffset = 0
    /// The output buffer, reused by every call.
    private var buffer: [UInt8] = []
    /// Whether the stream's end was reached.
    package private(set) var ended = false
    /// Compressed bytes given so far.
    package private(set) var taken = 0

    package init() throws {
        stream.initialize(to: z_stream())
        guard inflateInit2_(stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw BundleError("could not start decompressing the bundle (zlib): nothing was applied")
        }
        started = true
    }

    deinit {
        if started { inflateEnd(stream) }
        stream.deallocate()
    }

    /// Whether every byte fed has been taken in.
    package var needsInput: Bool { inputOffset == input.count }

    /// Adds compressed bytes; only when the earlier ones were all taken in.
    package func feed(_ bytes: [UInt8]) {
        precondition(needsInput, "fed before the earlier input was taken in")
        input = bytes
        inputOffset = 0
        taken += bytes.count
    }

    /// Up to `limit` bytes of output (none when it needs input or the stream ended); a stream that
    /// is not deflate is `BundleError.damaged`.
    package func inflate(limit: Int) throws -> [UInt8] {
        guard !ended, limit > 0 else { return [] }
        if buffer.count != limit { buffer = [UInt8](repeating: 0, count: limit) }
        let (code, used, produced) = input.withUnsafeMutableBufferPointer { source in
            buffer.withUnsafeMutableBufferPointer { out in
                stream.pointee.next_in = source.baseAddress.map { $0 + inputOffset }
                stream.pointee.avail_in = UInt32(source.count - inputOffset)
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = UInt32(out.count)
                let code = CDeflate.inflate(stream, Z_NO_FLUSH)
                let used = source.count - inputOffset - Int(stream.pointee.avail_in)
                stream.pointee.next_in = nil
                return (code, used, out.count - Int(stream.pointee.avail_out))
            }
        }
        inputOffset += used
        switch code {
        case Z_STREAM_END: ended = true
        case Z_OK, Z_BUF_ERROR: break
        default: throw BundleError.damaged
        }
        return Array(buffer[0..<produced])
    }
}
