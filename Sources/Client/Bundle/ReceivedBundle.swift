import Crypto
import Foundation
import Shared

/// A bundle read whole and checked (`BundleContents`): every chunk authentic and in place, the
/// maker's signature good under the key of a device this replica knows and that is not revoked,
/// attached files' content staged in the replica's store and checked against their hashes.
/// Nothing of it is applied yet.
struct ReceivedBundle {
    var contents: BundleContents
    /// Files' content, staged in the replica's store (sealed like any stored file), to commit or discard.
    var files: [(sha256: String, size: Int64, staged: StoreWriter)] = []

    var header: BundleHeader { contents.header }

    /// Stages one file's content as the bundle is read.
    private final class Staging: BundleContents.FileSink {
        let writer: StoreWriter
        var done: [StoreWriter] = []
        init(_ writer: StoreWriter) { self.writer = writer }
        func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try writer.append($0) } }
        func finish() throws {
            guard writer.isComplete, try writer.finish() == writer.sha256 else {
                throw BundleError("the content of attached file \(writer.sha256.prefix(12)) in the bundle does not match its hash: nothing was applied")
            }
        }
    }

    /// Reads and checks the bundle at `url` with this device's `agreementKey`; `devices` are the
    /// project's as the replica last fetched them. Throws a `ClientError` saying what is wrong.
    static func read(_ url: URL, agreementKey: Curve25519.KeyAgreement.PrivateKey, devices: [NodeID: BundleContents.Device], store: FileStore,
                     progress: ProgressLine) throws -> ReceivedBundle {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw ClientError("cannot read \(url.path): check the path and its permissions")
        }
        defer { try? handle.close() }
        let total = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int64) ?? 0
        var position: Int64 = 0
        var staged: [Staging] = []
        do {
            var opener = try BundleOpener(agreementKey: agreementKey) { count in
                let data = try handle.read(upToCount: count) ?? Data()
                position += Int64(data.count)
                progress.bytes("reading the bundle", done: position, total: total)
                return Array(data)
            }
            let contents = try BundleContents.read(&opener, devices: devices) { file in
                guard file.size >= 0, file.sha256.count == 64, Hex.decode(file.sha256) != nil else { throw BundleError.damaged }
                let staging = Staging(try StoreWriter.staging(store: store, sha256: file.sha256, size: file.size))
                staged.append(staging)
                return staging
            }
            return ReceivedBundle(contents: contents, files: staged.map { ($0.writer.sha256, $0.writer.size, $0.writer) })
        } catch {
            for staging in staged { staging.writer.discard() }
            if let error = error as? BundleError { throw ClientError("\(url.lastPathComponent): \(error.message)") }
            throw error
        }
    }

    /// Removes every staged file (the bundle is refused, or was applied and its files committed).
    func discardFiles() {
        for file in files { file.staged.discard() }
    }
}
