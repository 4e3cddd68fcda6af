import Crypto
import Foundation
import Shared

/// Where the load generator's replicas sync, and as whom.
struct LoadServer: Sendable {
    var host: String
    var port: Int
    var project: String

    init(url: String, project: String) throws {
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else {
            throw BenchError("the server's address \(url) has no host and port")
        }
        self.host = host
        self.port = port
        self.project = project
    }
}

/// One replica the load generator plays: its own node id, device keys, clock and outbox, and the
/// cursor of what it has pulled. It pushes as `casebook sync` does (its changes signed as one
/// batch by its device, then a pull from its cursor that leaves out its own changes, then the
/// device list), but neither checks nor stores what it pulls: in the field each replica runs on its
/// own laptop, so here the machine's two cores should go to the server. It follows the cursor and
/// counts the changes, and `received` must come to everyone else's changes in the end.
struct LoadReplica: Sendable {
    let user: String
    let token: String
    let node: NodeID
    /// The device's keys, kept as bytes (swift-crypto's keys are not `Sendable`).
    private let signingSecret = Array(Curve25519.Signing.PrivateKey().rawRepresentation)
    private let agreementSecret = Array(Curve25519.KeyAgreement.PrivateKey().rawRepresentation)
    private var signingKey: Curve25519.Signing.PrivateKey {
        get throws { try Curve25519.Signing.PrivateKey(rawRepresentation: signingSecret) }
    }
    private var clock: HybridClock
    /// The changes still to make, oldest first: `changesEach` of them, records of the benchmark's 12 fields.
    private var toMake: [(record: String, field: String, value: FieldValue)]
    /// The highest sequence number the server gave one of this replica's changes.
    private(set) var ownUpTo: Int64 = 0
    private(set) var cursor: Int64 = 0
    private(set) var pushed = 0
    private(set) var received = 0

    init(index: Int, user: String, token: String, changesEach: Int) {
        self.user = user
        self.token = token
        var generator = BenchData.Generator(seed: 90_000 + UInt64(index))
        node = NodeID.random(using: &generator)
        clock = HybridClock(node: node)
        var made: [(record: String, field: String, value: FieldValue)] = []
        var number = 0
        while made.count < changesEach {
            let record = generator.recordID()
            for (field, value) in BenchData.record(index * 10_000 + number, &generator) where made.count < changesEach {
                made.append((record, field, value))
            }
            number += 1
        }
        toMake = made
    }

    /// Registers the replica's device (its keys) with the server, as its first sync does.
    func register(at server: LoadServer) async throws {
        let agreement = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: agreementSecret).publicKey
        let signingKey = try signingKey
        let registration = Wire.DeviceRegistration(
            node: node.rawValue, signingKey: signingKey.publicKey.rawRepresentation.base64EncodedString(),
            agreementKey: agreement.rawRepresentation.base64EncodedString(),
            agreementSignature: Data(try DeviceBinding.sign(project: server.project, node: node, agreementKey: agreement, with: signingKey)).base64EncodedString())
        let body = Array(try JSONEncoder().encode(registration))
        let answer = try await LoadHTTP.withConnection(host: server.host, port: server.port, token: token) { connection in
            try await connection.exchange(.POST, "/v1/projects/\(server.project)/devices", body: body)
        }
        guard answer.status == 200 else { throw BenchError("registering device \(node) answered \(answer.status): \(String(decoding: answer.body, as: UTF8.self))") }
    }

    /// One sync: pushes the next `count` changes (none when `count` is 0), pulls to the end of the
    /// log and reads the device list. Returns how many changes it pulled.
    @discardableResult
    mutating func sync(with server: LoadServer, pushing count: Int) async throws -> Int {
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let changes = toMake.prefix(count).map { made in
            Change(collection: "incidents", record: made.record, field: made.field, value: made.value, hlc: clock.tick(now: now), author: user, base: nil)
        }
        let push = changes.isEmpty ? nil : Array(WireCodec.encode(Wire.PushRequest(
            changes: changes, batches: [try SignedBatch(signing: changes, project: server.project, node: node, key: signingKey)])))
        let (node, known, start) = (node, ownUpTo, cursor)
        let outcome = try await LoadHTTP.withConnection(host: server.host, port: server.port, token: token) { connection in
            var ownUpTo = known
            if let push {
                let answer = try await connection.exchange(.POST, "/v1/projects/\(server.project)/push", body: push)
                let applied = PageScan.count("\"status\":\"applied\"", in: answer.body)
                guard answer.status == 200, applied == changes.count else {
                    throw BenchError("a push of \(changes.count) changes answered \(answer.status) with \(applied) applied: \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
                }
                ownUpTo = max(ownUpTo, PageScan.largestInteger(after: "\"seq\":", in: answer.body))
            }
            var (cursor, received, more) = (start, 0, true)
            while more {
                let query = "after=\(cursor)&limit=10000&skipNode=\(node.rawValue)&skipUpTo=\(ownUpTo)"
                let page = try await connection.exchange(.GET, "/v1/projects/\(server.project)/pull?\(query)")
                guard page.status == 200, let scanned = PageScan.pull(page.body) else {
                    throw BenchError("a pull answered \(page.status): \(String(decoding: page.body.prefix(300), as: UTF8.self))")
                }
                received += scanned.changes
                (cursor, more) = (scanned.cursor, scanned.more)
            }
            let devices = try await connection.exchange(.GET, "/v1/projects/\(server.project)/devices")
            guard devices.status == 200 else { throw BenchError("the device list answered \(devices.status)") }
            return (ownUpTo, cursor, received)
        }
        toMake.removeFirst(changes.count)
        pushed += changes.count
        (ownUpTo, cursor) = (outcome.0, outcome.1)
        received += outcome.2
        return outcome.2
    }
}

/// Byte searches in an answer, so the generator does not spend the cores on decoding JSON it
/// would throw away: the server's pages are written by `WireCodec`, whose key order is fixed, and
/// the generator's own values never hold these patterns.
enum PageScan {
    /// A pull page: how many changes it holds, its cursor, and whether more follow.
    static func pull(_ bytes: [UInt8]) -> (changes: Int, cursor: Int64, more: Bool)? {
        var changes = 0, lastChange = 0
        forEach("{\"seq\":", in: bytes, from: 0) { end in
            changes += 1
            lastChange = end
        }
        // The page's own keys follow its last change.
        var tail: Int?
        forEach("\"conflicts\":[],\"cursor\":", in: bytes, from: lastChange) { end in tail = tail ?? end }
        guard let tail, let cursor = number(at: tail, in: bytes) else { return nil }
        var more = false
        forEach("\"more\":true", in: bytes, from: tail) { _ in more = true }
        return (changes, cursor, more)
    }

    /// How many times `pattern` occurs in `bytes`.
    static func count(_ pattern: String, in bytes: [UInt8]) -> Int {
        var found = 0
        forEach(pattern, in: bytes, from: 0) { _ in found += 1 }
        return found
    }

    /// The largest whole number right after any `pattern` (0 when there is none).
    static func largestInteger(after pattern: String, in bytes: [UInt8]) -> Int64 {
        var largest: Int64 = 0
        forEach(pattern, in: bytes, from: 0) { end in largest = max(largest, number(at: end, in: bytes) ?? 0) }
        return largest
    }

    private static func number(at start: Int, in bytes: [UInt8]) -> Int64? {
        var index = start, value: Int64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        return index > start ? value : nil
    }

    /// Calls `body` with the index just past each occurrence of `pattern` at or after `start`
    /// (`memchr` to each candidate's first byte, then `memcmp`: a page of megabytes is scanned at
    /// about memory speed).
    private static func forEach(_ pattern: String, in bytes: [UInt8], from start: Int, _ body: (Int) -> Void) {
        let needle = Array(pattern.utf8)
        guard let head = needle.first else { return }
        bytes.withUnsafeBytes { haystack in
            guard let base = haystack.baseAddress else { return }
            var offset = start
            while offset + needle.count <= haystack.count,
                  let hit = memchr(base + offset, Int32(head), haystack.count - offset - needle.count + 1) {
                let at = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(hit, needle, needle.count) == 0 {
                    body(at + needle.count)
                    offset = at + needle.count
                } else {
                    offset = at + 1
                }
            }
        }
    }
}
