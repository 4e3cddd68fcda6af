import Crypto
import Foundation
import Shared

/// A bundle read whole and checked: every chunk authentic and in place, the maker's signature good
/// under the key of a device this replica knows and that is not revoked, attached files' content
/// staged and checked against their hashes. Nothing of it is applied yet.
struct ReceivedBundle {
    var header: BundleHeader
    var batches: [SignedBatch] = []
    var changes: [BundleChange] = []
    var custody: [Wire.CustodyEvent] = []
    /// Files' content, staged in the replica's store (sealed like any stored file), to commit or discard.
    var files: [(sha256: String, size: Int64, staged: StoreWriter)] = []
    /// How many devices the bundle was sealed for.
    var recipients = 0

    /// A device as the check needs it.
    struct Device {
        var owner: String
        var key: [UInt8]
        var revoked: Bool
    }

    /// Reads and checks the bundle at `url` with this device's `agreementKey`; `devices` are the
    /// project's as the replica last fetched them. Throws a `ClientError` saying what is wrong.
    static func read(_ url: URL, agreementKey: Curve25519.KeyAgreement.PrivateKey, devices: [NodeID: Device], store: FileStore?,
                     progress: ProgressLine) throws -> ReceivedBundle {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw ClientError("cannot read \(url.path): check the path and its permissions")
        }
        defer { try? handle.close() }
        let total = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int64) ?? 0
        var position: Int64 = 0
        var opener: BundleOpener
        do {
            opener = try BundleOpener(agreementKey: agreementKey) { count in
                let data = try handle.read(upToCount: count) ?? Data()
                position += Int64(data.count)
                progress.bytes("reading the bundle", done: position, total: total)
                return Array(data)
            }
        } catch let error as BundleError {
            throw ClientError("\(url.lastPathComponent): \(error.message)")
        }
        var received: ReceivedBundle?
        do {
            received = try collect(&opener, store: store)
            guard let bundle = received else { throw BundleError("the bundle has no header: nothing was applied") }
            try bundle.checkMaker(opener, devices: devices)
            var checked = bundle
            checked.recipients = opener.recipientCount
            return checked
        } catch {
            received?.discardFiles()
            if let error = error as? BundleError { throw ClientError("\(url.lastPathComponent): \(error.message)") }
            throw error
        }
    }

    /// Every record until the signature, sorted into the bundle's parts.
    private static func collect(_ opener: inout BundleOpener, store: FileStore?) throws -> ReceivedBundle? {
        let decoder = JSONDecoder()
        var bundle: ReceivedBundle?
        var file: StoreWriter?
        do {
            while let record = try opener.next() {
                guard record.kind == .header || bundle != nil else { throw BundleError.damaged }
                if record.kind != .fileData, let open = file {
                    try bundle?.finishFile(open)
                    file = nil
                }
                switch record.kind {
                case .header:
                    guard bundle == nil else { throw BundleError.damaged }
                    bundle = ReceivedBundle(header: try decoder.decode(BundleHeader.self, from: Data(record.payload)))
                case .batch: bundle?.batches.append(try decoder.decode(SignedBatch.self, from: Data(record.payload)))
                case .change: bundle?.changes.append(try decoder.decode(BundleChange.self, from: Data(record.payload)))
                case .custody: bundle?.custody.append(try decoder.decode(Wire.CustodyEvent.self, from: Data(record.payload)))
                case .file:
                    let info = try decoder.decode(BundleFile.self, from: Data(record.payload))
                    guard let store, info.size >= 0, info.sha256.count == 64 else { continue }
                    file = try StoreWriter.staging(store: store, sha256: info.sha256, size: info.size)
                case .fileData:
                    guard let open = file else { continue }
                    try record.payload.withUnsafeBytes { try open.append($0) }
                case .signature: throw BundleError.damaged
                }
            }
            if let open = file { try bundle?.finishFile(open) }
        } catch {
            file?.discard()
            bundle?.discardFiles()
            if error is DecodingError { throw BundleError.damaged }
            throw error
        }
        return bundle
    }

    /// Checks a staged file whole against its hash and keeps it for the commit.
    private mutating func finishFile(_ writer: StoreWriter) throws {
        guard writer.isComplete, try writer.finish() == writer.sha256 else {
            writer.discard()
            throw BundleError("the content of attached file \(writer.sha256.prefix(12)) in the bundle does not match its hash: nothing was applied")
        }
        files.append((writer.sha256, writer.size, writer))
    }

    /// The bundle's maker is a device of the project this replica knows, not revoked, and signed it.
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

    /// Removes every staged file (the bundle is refused, or was applied and its files committed).
    func discardFiles() {
        for file in files { file.staged.discard() }
    }
}
