import Crypto
import Foundation

/// Reads a bundle the way both readers do (`casebook bundle apply`, `casebook-server bundle apply`):
/// twice, so that nothing in it is decoded before the whole file is known to be its maker's, and
/// memory stays flat however large it is.
///
/// 1. `check` opens every chunk and checks the maker's signature over all of it, decoding only the
///    header (to know who the maker claims to be). It keeps a fingerprint of each sealed chunk.
/// 2. `replay` reads the file again, refusing any chunk whose fingerprint differs from the first
///    reading's, and hands each record, decoded, to a `Visitor` as it comes: the caller applies
///    them as they come, inside one transaction it can roll back.
package enum BundleStream {
    /// Where a file's content goes while the bundle is replayed.
    package protocol FileSink: AnyObject {
        /// The next chunk of the file.
        func append(_ bytes: [UInt8]) throws
        /// The file ended: check it whole against its hash.
        func finish() throws
    }

    /// What a reader does with a bundle's records, in the order they come: the header first (already
    /// known from `check`), then the signed batches, the changes, custody events and files.
    package protocol Visitor {
        /// A signed batch: the changes after it may be signed by it.
        mutating func batch(_ batch: SignedBatch) throws
        /// A change.
        mutating func change(_ change: BundleChange) throws
        /// A custody event.
        mutating func custody(_ event: Wire.CustodyEvent) throws
        /// The start of an attached file: where its content goes (nil: skip it).
        mutating func file(_ file: BundleFile) throws -> (any FileSink)?
    }

    /// A device as the maker's check needs it.
    package struct Device: Sendable {
        /// The user it belongs to.
        package var owner: String
        /// Its Ed25519 public key.
        package var key: [UInt8]
        /// An admin revoked it.
        package var revoked: Bool
        /// A device.
        package init(owner: String, key: [UInt8], revoked: Bool) {
            self.owner = owner
            self.key = key
            self.revoked = revoked
        }
    }

    /// A bundle read whole once and found to be its maker's.
    package struct Checked: Sendable {
        /// Its header.
        package var header: BundleHeader
        /// How many devices it was sealed for.
        package var recipients: Int
        /// The fingerprint of each sealed chunk, for `replay`'s opener (`BundleOpener(expecting:)`).
        package var chunks: [[UInt8]]
    }

    /// Reads every record of `opener` without decoding any but the header, then checks the maker
    /// against `devices`. Throws `BundleError` for anything wrong.
    package static func check(_ opener: inout BundleOpener, devices: [NodeID: Device]) throws -> Checked {
        var header: BundleHeader?
        while let record = try opener.next() {
            guard (record.kind == .header) == (header == nil) else { throw BundleError.damaged }
            if record.kind == .header {
                do {
                    header = try JSONDecoder().decode(BundleHeader.self, from: Data(record.payload))
                } catch {
                    throw BundleError.damaged
                }
            }
        }
        guard let header else { throw BundleError.damaged }
        try checkMaker(header, opener, devices: devices)
        return Checked(header: header, recipients: opener.recipientCount, chunks: opener.fingerprints)
    }

    /// Reads the records of `opener` (made with `expecting: checked.chunks`) again and hands each to
    /// `visitor`, decoded. Throws `BundleError` for anything wrong, or what the visitor throws.
    package static func replay(_ opener: inout BundleOpener, into visitor: inout some Visitor) throws {
        let decoder = JSONDecoder()
        var sink: (any FileSink)?
        var sawHeader = false
        do {
            while let record = try opener.next() {
                if record.kind != .fileData, let open = sink {
                    try open.finish()
                    sink = nil
                }
                switch record.kind {
                case .header:
                    guard !sawHeader else { throw BundleError.damaged }
                    sawHeader = true
                case .batch: try visitor.batch(try decoder.decode(SignedBatch.self, from: Data(record.payload)))
                case .change: try visitor.change(try decoder.decode(BundleChange.self, from: Data(record.payload)))
                case .custody: try visitor.custody(try decoder.decode(Wire.CustodyEvent.self, from: Data(record.payload)))
                case .file: sink = try visitor.file(try decoder.decode(BundleFile.self, from: Data(record.payload)))
                case .fileData: try sink?.append(record.payload)
                case .signature: throw BundleError.damaged
                }
            }
            try sink?.finish()
        } catch is DecodingError {
            throw BundleError.damaged
        }
        guard sawHeader else { throw BundleError.damaged }
    }

    /// The maker is a device of the project the reader knows, not revoked, of the author the header names, and signed it.
    private static func checkMaker(_ header: BundleHeader, _ opener: BundleOpener, devices: [NodeID: Device]) throws {
        guard let node = NodeID(header.creator), let device = devices[node] else {
            throw BundleError("the bundle is signed by device \(header.creator), which this replica does not know as a device of the project: nothing was applied; sync once to fetch the project's devices, and if it is still unknown, do not trust the bundle")
        }
        guard !device.revoked else {
            throw BundleError("the bundle was made by device \(header.creator) of \(device.owner), which an admin of the project revoked: nothing was applied")
        }
        guard device.owner == header.author, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: device.key),
              opener.holds(signer: key) else {
            throw BundleError("the bundle's signature does not hold under the key of device \(header.creator) it names: it was altered or forged; nothing was applied")
        }
    }
}
