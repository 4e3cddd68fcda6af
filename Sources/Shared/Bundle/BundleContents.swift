import Crypto
import Foundation

/// A bundle's records, sorted into its parts as an opener gives them, and its maker checked: the
/// one reading the client (`casebook bundle apply`) and the server (`casebook-server bundle apply`) share.
/// Attached files' content goes to the caller as it comes (`FileSink`), never into memory whole.
package struct BundleContents {
    /// Where a file's content goes while the bundle is read.
    package protocol FileSink: AnyObject {
        /// The next chunk of the file.
        func append(_ bytes: [UInt8]) throws
        /// The file ended: check it whole against its hash.
        func finish() throws
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

    /// The header.
    package var header: BundleHeader
    /// The signed batches.
    package var batches: [SignedBatch] = []
    /// The changes, oldest first.
    package var changes: [BundleChange] = []
    /// The custody events.
    package var custody: [Wire.CustodyEvent] = []
    /// How many devices it was sealed for.
    package var recipients = 0

    /// Reads every record of `opener` and checks the maker against `devices`. `file` returns where a
    /// file's content goes (nil: skip it). Throws `BundleError` for anything wrong; nothing read may be
    /// used unless it returns.
    package static func read(_ opener: inout BundleOpener, devices: [NodeID: Device],
                             file: (BundleFile) throws -> (any FileSink)?) throws -> BundleContents {
        let decoder = JSONDecoder()
        var contents: BundleContents?
        var sink: (any FileSink)?
        do {
            while let record = try opener.next() {
                guard record.kind == .header || contents != nil else { throw BundleError.damaged }
                if record.kind != .fileData, let open = sink {
                    try open.finish()
                    sink = nil
                }
                switch record.kind {
                case .header:
                    guard contents == nil else { throw BundleError.damaged }
                    contents = BundleContents(header: try decoder.decode(BundleHeader.self, from: Data(record.payload)))
                case .batch: contents?.batches.append(try decoder.decode(SignedBatch.self, from: Data(record.payload)))
                case .change: contents?.changes.append(try decoder.decode(BundleChange.self, from: Data(record.payload)))
                case .custody: contents?.custody.append(try decoder.decode(Wire.CustodyEvent.self, from: Data(record.payload)))
                case .file: sink = try file(try decoder.decode(BundleFile.self, from: Data(record.payload)))
                case .fileData: try sink?.append(record.payload)
                case .signature: throw BundleError.damaged
                }
            }
            try sink?.finish()
        } catch is DecodingError {
            throw BundleError.damaged
        }
        guard var contents else { throw BundleError.damaged }
        try contents.checkMaker(opener, devices: devices)
        contents.recipients = opener.recipientCount
        return contents
    }

    /// The maker is a device of the project the reader knows, not revoked, of the author the header names, and signed it.
    private func checkMaker(_ opener: BundleOpener, devices: [NodeID: Device]) throws {
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
