import Crypto
import Foundation
import Shared

/// Reads a bundle file for `casebook bundle apply`, twice (`BundleStream`): `check` reads it whole
/// and checks its maker (every chunk authentic and in place, the signature good under the key of a
/// device this replica knows and that is not revoked) without decoding its records; `replay` reads
/// it again, chunk by chunk identical to what was checked, and hands its records to the applier.
struct BundleFileReader {
    let url: URL
    let agreementKey: Curve25519.KeyAgreement.PrivateKey
    let progress: ProgressLine

    /// The first reading: throws a `ClientError` saying what is wrong.
    func check(devices: [NodeID: BundleStream.Device]) throws -> BundleStream.Checked {
        try reading("checking the bundle", expecting: nil) { opener in try BundleStream.check(&opener, devices: devices) }
    }

    /// The second reading, into `visitor`.
    func replay(_ checked: BundleStream.Checked, into visitor: inout some BundleStream.Visitor) throws {
        try reading("applying the bundle", expecting: checked.chunks) { opener in try BundleStream.replay(&opener, into: &visitor) }
    }

    private func reading<T>(_ label: String, expecting: [[UInt8]]?, _ body: (inout BundleOpener) throws -> T) throws -> T {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw ClientError("cannot read \(url.path): check the path and its permissions")
        }
        defer { try? handle.close() }
        let total = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int64) ?? 0
        var position: Int64 = 0
        let progress = progress
        do {
            var opener = try BundleOpener(agreementKey: agreementKey, expecting: expecting) { count in
                let data = try handle.read(upToCount: count) ?? Data()
                position += Int64(data.count)
                progress.bytes(label, done: position, total: total)
                return Array(data)
            }
            return try body(&opener)
        } catch let error as BundleError {
            throw ClientError("\(url.lastPathComponent): \(error.message)")
        }
    }
}
