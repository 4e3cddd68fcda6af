import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Shared

/// What the server's answers mean: a body read as a value or as an error, and a failed exchange
/// classified truthfully (exit 3 only when the server could not be reached; a certificate or a
/// protocol problem is exit 1 with its own message, since trying again cannot help).
extension SyncClient {
    /// The largest answer read: far above any page a server sends (pages are bounded in bytes).
    static let maxAnswerBytes = 512 << 20
    /// How deeply an answer's JSON may nest: `JSONDecoder`'s limit and the fast reader's. Checked
    /// before any decoder sees the bytes, so that no reader can be made to recurse without bound.
    static let maxNesting = 512

    /// Reads an answer: a 2xx body with `decode`, anything else as the error it describes.
    static func interpret<T>(status: Int, data: Data, server: URL, decode: (Data) throws -> T) throws -> T {
        let readable = nesting(of: data) <= maxNesting
        guard (200..<300).contains(status) else {
            let message = readable ? (try? JSONDecoder().decode(Wire.ErrorResponse.self, from: data))?.error.message : nil
            var error = httpError(status: status, message: message, server: server)
            error.status = status
            throw error
        }
        do {
            guard readable else { throw NestingError() }
            return try decode(data)
        } catch {
            throw ClientError("the server at \(server) sent an answer this client does not understand: is it a Casebook server of the same version?")
        }
    }

    private struct NestingError: Error {}

    /// The deepest nesting of arrays and objects in JSON text (brackets inside strings do not count).
    static func nesting(of data: Data) -> Int {
        data.withUnsafeBytes { nesting(of: $0) }
    }

    // Over the raw bytes: iterating `Data` itself costs a call per byte, and pages are megabytes.
    private static func nesting(of data: UnsafeRawBufferPointer) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for byte in data {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    /// A failed exchange: a certificate problem, an answer too large and an answer that is not
    /// HTTP are errors of their own (exit 1); anything else means the server could not be reached
    /// (exit 3), and the local changes are kept.
    static func translate(_ error: any Error, server: URL) -> ClientError {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return ClientError("the server's certificate is not made out for the host name of \(server) (\(extra)): check the address, or ask the server's admin for a certificate naming it. Nothing was sent")
        }
        // A TLS connection cut (during the handshake, or after it without a closing message) is the
        // network, not the certificate.
        if let tls = error as? NIOSSLError, isCut(tls) {
            return unreachable(server, "the connection was cut")
        }
        if String(reflecting: type(of: error)).hasPrefix("NIOSSL.") || String(describing: error).contains("handshakeFailed")
            || error as? TransportError == .noCertificate {
            return ClientError("the secure connection to \(server) failed (\(error)): the server's certificate is not trusted or not valid; pass --ca-cert to 'casebook init' for a private CA. Nothing was sent")
        }
        if error as? TransportError == .answerTooLarge {
            return ClientError("the server at \(server) sent an answer larger than \(maxAnswerBytes >> 20) MiB, more than this client reads: tell the server's admin (its pages should be bounded in bytes)")
        }
        // A connection cut mid-answer ends the parse early (invalidEOFState): that one is the network.
        if let parse = error as? HTTPParserError, parse != .invalidEOFState {
            return ClientError("the server at \(server) sent something that is not a valid HTTP answer (\(parse)): check that the address is that of a Casebook server")
        }
        return unreachable(server, shortDescription(error))
    }

    private static func isCut(_ error: NIOSSLError) -> Bool {
        switch error {
        case .uncleanShutdown: true
        case .handshakeFailed(.sslError(let stack)): stack.contains(.eofDuringHandshake)
        case .handshakeFailed(.syscallError), .handshakeFailed(.zeroReturn): true
        default: false
        }
    }

    private static func unreachable(_ server: URL, _ reason: String) -> ClientError {
        ClientError("cannot reach the server at \(server) (\(reason)): your local changes are kept; sync again when the network is back",
                    exitCode: ClientError.unreachableExitCode)
    }

    private static func shortDescription(_ error: any Error) -> String {
        if let transport = error as? TransportError { return transport.description }
        if let failure = error as? NIOConnectionError, failure.connectionErrors.isEmpty, failure.dnsAError != nil || failure.dnsAAAAError != nil {
            return "its host name could not be resolved"
        }
        let text = String(describing: error)
        let lowered = text.lowercased()
        if lowered.contains("timeout") || lowered.contains("timed out") { return "timed out" }
        if lowered.contains("connection reset") || lowered.contains("broken pipe") || error is HTTPParserError {
            return "the connection was cut"
        }
        if lowered.contains("refused") { return "connection refused" }
        return String(text.prefix(120))
    }

    static func httpError(status: Int, message: String?, server: URL) -> ClientError {
        let detail = message ?? "HTTP \(status)"
        switch status {
        case 401: return ClientError("the server refused this replica's token (\(detail))")
        case 403: return ClientError("the server refused: \(detail)")
        case 413: return ClientError("the server refused a request as too large: \(detail)")
        case 429: return ClientError("the server is slowing down requests from this address (\(detail)): wait a minute and try again")
        case 500...599:
            return ClientError("the server failed (\(detail)): your local changes are kept; try again later",
                               exitCode: status == 502 || status == 503 || status == 504 ? ClientError.unreachableExitCode : 1)
        default: return ClientError("the server answered \(status): \(detail)")
        }
    }
}
