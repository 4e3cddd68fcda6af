import Crypto
import Foundation
import Shared

/// The cost of signed changes, in process: what a push adds on the client (digests and one
/// signature per batch), on the server (digests, one check per batch, the author's device per
/// change), and what a pull adds on the client (the same check). Measured on changes shaped like
/// the scaling phases' (12 fields a record), so the rows sit beside those phases' times.
enum SignatureBench {
    static func rows(records: Int) throws -> [Row] {
        let key = Curve25519.Signing.PrivateKey()
        var generator = SystemRandomNumberGenerator()
        let node = NodeID.random(using: &generator)
        var clock = HybridClock(node: node)
        var changes: [Change] = []
        changes.reserveCapacity(records * 12)
        let fields = ["title", "date", "location", "description", "themes", "violation_status", "summary", "notes", "a", "b", "c", "d"]
        for index in 0..<records {
            let record = RecordID.generate(now: 1_737_600_000_000 + UInt64(index), using: &generator)
            for field in fields {
                changes.append(Change(collection: "incidents", record: record, field: field, value: .text("Value \(index) of \(field), as typed"),
                                      hlc: clock.tick(now: 1_737_600_000_000 + UInt64(index)), author: "ana", base: nil))
            }
        }
        let size = "\(records.formatted()) records (\(changes.count.formatted()) changes)"
        let pushBatch = 5_000, pageSize = 10_000
        var batches: [SignedBatch] = []
        let sign = try seconds {
            for start in stride(from: 0, to: changes.count, by: pushBatch) {
                batches.append(try SignedBatch(signing: Array(changes[start..<min(start + pushBatch, changes.count)]), project: "bench", node: node, key: key))
            }
        }
        let devices = [node: SignatureCheck.Device(owner: "ana", key: Array(key.publicKey.rawRepresentation))]
        // The server checks each push request (1,000 changes) against the batch it carries; a puller
        // checks pages, each with the batches it touches. Both look up only their own digests (`locate`).
        func checked(_ part: ArraySlice<Change>, in carried: [SignedBatch], _ check: inout SignatureCheck) throws {
            let (problems, holders) = check.locate(ChangeDigest.of(part, project: "bench"), authors: part.map(\.author), in: carried)
            guard problems.isEmpty else { throw Failed() }
            for (change, holder) in zip(part, holders) { _ = try check.attribute(change, to: holder.map { carried[$0].node }).get() }
        }
        let serverCheck = try seconds {
            for start in stride(from: 0, to: changes.count, by: 1_000) {
                var check = SignatureCheck(project: "bench", devices: devices)
                try checked(changes[start..<min(start + 1_000, changes.count)], in: [batches[start / pushBatch]], &check)
            }
        }
        let pullCheck = try seconds {
            var check = SignatureCheck(project: "bench", devices: devices)
            for start in stride(from: 0, to: changes.count, by: pageSize) {
                let end = min(start + pageSize, changes.count)
                try checked(changes[start..<end], in: Array(batches[start / pushBatch...(end - 1) / pushBatch]), &check)
            }
        }
        let perChange = { (time: Double) in String(format: "%.2f µs a change", time / Double(changes.count) * 1e6) }
        return [
            Row(phase: "signatures: digests and signing (push, client)", size: size, time: sign, rate: Double(changes.count) / sign, ratio: nil,
                note: "\(perChange(sign)); \(batches.count) batches of \(pushBatch)"),
            Row(phase: "signatures: checking a push (server)", size: size, time: serverCheck, rate: Double(changes.count) / serverCheck, ratio: nil,
                note: perChange(serverCheck)),
            Row(phase: "signatures: checking pull pages (client)", size: size, time: pullCheck, rate: Double(changes.count) / pullCheck, ratio: nil,
                note: "\(perChange(pullCheck)); pages of \(pageSize)"),
        ]
    }

    private struct Failed: Error {}

    private static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
