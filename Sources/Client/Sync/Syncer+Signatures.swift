import Crypto
import Foundation
import Shared

/// Signs the batches this replica sends with its device key.
struct BatchSigner {
    let key: Curve25519.Signing.PrivateKey
    let project: String
    let node: NodeID

    func sign(_ changes: [Change]) throws -> SignedBatch {
        try SignedBatch(signing: changes, project: project, node: node, key: key)
    }
}

extension Syncer {
    /// Registers this replica's key when the server does not have it yet (a replica made before
    /// signatures gets its key now) and returns the signer for pushes and the checker for pages,
    /// with the devices the replica knows. Both are nil for a transport without signatures (the
    /// in-process servers of tests); the HTTP client always has them, or fails. The devices are
    /// fetched only when the replica knows none, or a page names one it does not know, so a no-op
    /// sync stays one request.
    func prepareSignatures() async throws -> (BatchSigner?, PageSignatures?) {
        let (raw, registered) = try await replica.signingKey()
        let key: Curve25519.Signing.PrivateKey
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        } catch {
            throw ClientError("the replica's signing key is damaged: start a new replica with 'casebook init'")
        }
        // Registered once, and once more for a replica from before agreement keys, to add its agreement key.
        let agreementRegistered = try await replica.agreementRegistered()
        if !registered || !agreementRegistered {
            let registration = try Replica.registration(project: settings.project, node: settings.node, signingKey: key,
                                                        agreementKey: try await replica.agreementKey())
            if try await client.registerDevice(registration) {
                try await replica.markRegistered()
                try await replica.markAgreementRegistered()
            }
        }
        var known = try await replica.knownDevices()
        if known.isEmpty {
            guard let fetched = try await fetchDevices() else { return (nil, nil) }
            known = fetched
        }
        let pages = PageSignatures(check: SignatureCheck(project: settings.project, devices: known),
                                   unsignedUpTo: try await replica.unsignedUpTo(), server: settings.server.absoluteString)
        return (BatchSigner(key: key, project: settings.project, node: settings.node), pages)
    }

    /// Fetches the project's devices again after a sync that moved something: a bundle made offline
    /// later is sealed for the devices this list names, and one received is checked against it
    /// (revoked devices included). A sync with nothing new stays one request.
    func refreshDevices(after report: SyncReport) async throws {
        guard report.pushed + report.pulled + report.relayed > 0 else { return }
        _ = try await fetchDevices()
    }

    /// The project's devices from the server, kept in the replica; nil from a transport without signatures.
    private func fetchDevices() async throws -> [NodeID: SignatureCheck.Device]? {
        guard let list = try await client.deviceList() else { return nil }
        let devices = list.devices
        try await replica.storeDevices(devices)
        try await replica.storeServerAgreementKey(list.serverAgreementKey)
        var known: [NodeID: SignatureCheck.Device] = [:]
        for device in devices {
            // Revoked devices stay: their changes accepted before the revocation remain valid.
            if let node = NodeID(device.node), let key = Data(base64Encoded: device.signingKey) {
                known[node] = .init(owner: device.owner, key: Array(key))
            }
        }
        return known
    }

    /// Checks a page's signatures (when the transport carries them) and pins where the unsigned history ends.
    func verify(_ changes: [Wire.LoggedChange], digests: [ChangeDigest]? = nil, batches: [SignedBatch], unsignedUpTo: Int64?,
                _ signatures: inout PageSignatures?) async throws {
        guard var checker = signatures else { return }
        // A device registered since the replica last fetched the list: fetch it again, once per page at most.
        if batches.contains(where: { checker.check.devices[$0.node] == nil }), let fetched = try await fetchDevices() {
            checker.check.devices = fetched
        }
        if let pin = try checker.verify(changes, digests: digests, batches: batches, pageUnsignedUpTo: unsignedUpTo) {
            try await replica.pinUnsignedUpTo(pin)
        }
        signatures = checker
    }
}
