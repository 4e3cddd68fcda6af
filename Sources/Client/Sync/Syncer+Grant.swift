import Crypto
import Foundation
import Shared

/// `casebook grant` and `casebook rotate-key`: project keys wrapped for other members' devices.
extension Syncer {
    /// What a grant or a rotation did.
    struct KeyReport: Sendable {
        var keys: [String] = []
        var devices = 0
        var members: [String] = []
    }

    /// Wraps every key this replica holds for every valid device of `user`, with the device list and the
    /// keys fetched fresh.
    func grant(to user: String) async throws -> KeyReport {
        let (signer, ring) = try await refreshKeys()
        guard let server = ring.server, server.members.contains(user) else {
            throw ClientError("'\(user)' is not a member of project '\(settings.project)': the project's admin adds members ('casebook-server user add')")
        }
        let held = server.keys.compactMap { info in ring.secret(info.id).map { (id: info.id, key: $0) } }
        guard !held.isEmpty else {
            throw ClientError(server.keys.isEmpty
                ? "the project has no key yet: it is made at the first sync after someone sets a sensitive field"
                : "this replica does not hold the project's key, so it cannot grant it: ask \(server.current?.holders.joined(separator: ", ") ?? "a member who holds it")")
        }
        let devices = try await replica.agreementKeys().filter { $0.value.owner == user }.mapValues(\.key)
        guard !devices.isEmpty else {
            throw ClientError("'\(user)' has no registered device yet: they run 'casebook init' (or 'casebook sync' once), then you grant again")
        }
        let wrapper = KeyWrapper(project: settings.project, signer: signer)
        for (id, key) in held { _ = try await client.grantKey(id, wraps: try wrapper.wraps(of: key, id: id, for: devices)) }
        return KeyReport(keys: held.map(\.id), devices: devices.count, members: [user])
    }

    /// Makes a new project key for the devices of the project's members (revoked users and devices get
    /// none); values sealed from then on use it.
    func rotateKey() async throws -> KeyReport {
        let (signer, ring) = try await refreshKeys()
        let server = ring.server ?? Wire.ProjectKeys(keys: [], wraps: [], members: [])
        if let current = server.current, ring.secret(current.id) == nil {
            throw ClientError("this replica does not hold the project's current key, so it cannot rotate it: ask \(current.holders.joined(separator: ", "))")
        }
        let members = Set(server.members)
        var devices = try await replica.agreementKeys().filter { members.contains($0.value.owner) }.mapValues(\.key)
        devices[settings.node] = try await replica.agreementKey().publicKey
        let id = ProjectKeyID.random(), key = SymmetricKey(size: .bits256)
        let wraps = try KeyWrapper(project: settings.project, signer: signer).wraps(of: key, id: id, for: devices)
        let answer = try await client.createKey(Wire.KeyCreation(id: id, previous: server.current?.id, wraps: wraps))
        guard answer.created == true else {
            throw ClientError("another member made a new project key at the same moment: run 'casebook sync', then rotate again if you still need to")
        }
        try await replica.adoptKeys(answer, opened: [id: key.withUnsafeBytes { Data($0) }], settled: [:], project: settings.project, schema: settings.schema)
        let owners = Set(try await replica.agreementKeys().filter { devices[$0.key] != nil }.map(\.value.owner) + [settings.user])
        return KeyReport(keys: [id], devices: devices.count, members: owners.sorted())
    }

    /// Registers this device if needed, fetches the project's devices and keys, and returns the signer and the keys held.
    private func refreshKeys() async throws -> (BatchSigner, ProjectKeyRing) {
        let (signer, _) = try await prepareSignatures()
        guard let signer, let devices = try await client.devices() else { throw ClientError("this server keeps no project keys") }
        try await replica.storeDevices(devices)
        try await syncKeys(signer: signer)
        return (signer, try await replica.keyRing())
    }
}
