@testable import Client
import Shared

// The in-process servers of these tests carry no signatures: a push goes without its batches, and
// a sync neither registers a key nor checks pages (`Syncer.prepareSignatures`). The HTTP client
// always carries them; the end-to-end tests check them against the real server.
extension SyncTransport {
    func push(_ changes: [Change], batches: [SignedBatch]) async throws -> Wire.PushResponse { try await push(changes) }
    func devices() async throws -> [Wire.Device]? { nil }
    func registerDevice(_ registration: Wire.DeviceRegistration) async throws -> Bool { false }
}
