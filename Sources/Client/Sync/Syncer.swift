import Foundation
import Shared

/// A push batch on its way: its outbox entries and the request's answer to come.
private struct PushFlight {
    let entries: [OutboxEntry]
    let response: Task<Wire.PushResponse, any Error>
}

/// What a sync did.
struct SyncReport: Sendable {
    var pushed = 0
    var pulled = 0
    var conflicts = 0
    var rejected: [RejectedView] = []
    /// Why the server refused every push (a viewer's replica, say); the pull still ran.
    var pushForbidden: String?
    /// Seconds spent in each part, for `sync --json` and the benchmark.
    var snapshotSeconds = 0.0
    var pushSeconds = 0.0
    var pullSeconds = 0.0
    /// The project's custody log position the last pull page announced (nil: the server keeps none).
    var custodySeq: Int64?
    /// What moving files and custody events did (`FileSyncer`).
    var files = FileSyncReport()
    /// Records removed because this user may no longer read them, and their pending edits dropped.
    var removal = Replica.Removal()
    /// Changes received in bundles (or published in one made here) that this sync handed to the server.
    var relayed = 0
    /// Relayed changes the server refused, with its reasons.
    var relayRefused: [(hlc: HLC, reason: String)] = []
}

/// Runs a sync: the first time, the snapshot of current versions; then push the outbox; then
/// pull the log from the cursor. The sync state is loaded once and saved by the replica with each
/// page or acknowledgement it covers, so a sync cut off anywhere loses nothing and the next one
/// continues. The decisions of the push are `PushMachine`'s; this type does the I/O.
struct Syncer {
    let replica: Replica
    let client: any SyncTransport
    let settings: ReplicaSettings
    let progress: ProgressLine
    var pushBatch = 5_000
    /// About how many bytes a push body may take: well under a server's default limit (32 MiB),
    /// so that a batch of long texts is split instead of refused (a larger change goes alone).
    var pushBytes = 8 << 20
    var pageSize = 10_000

    /// The server's address, for messages.
    private var server: String { settings.server.absoluteString }

    func run() async throws -> SyncReport {
        var report = SyncReport()
        defer { progress.finish() }
        var state = try await replica.syncState()
        let clock = ContinuousClock()
        var start = clock.now
        var (signer, signatures) = try await prepareSignatures()
        // The schema may move to a newer version during the pull: what follows it uses that one.
        var schema = settings.schema
        // The keys that sealed what this sync pulled: new ones are fetched after the pull.
        var sealedKeys = Set<String>()
        report.pulled += try await snapshotIfNeeded(&state, &signatures, &schema, sealedKeys: &sealedKeys)
        report.snapshotSeconds = (clock.now - start).seconds
        start = clock.now
        let keysFetched = try await syncKeys(signer: signer, always: false, pulled: sealedKeys, schema: schema)
        do {
            report.pushed = try await push(&state, signer: signer)
        } catch let error as ClientError where error.status == 403 {
            // Refused outright (a viewer): keep the outbox, still bring the replica up to date.
            report.pushForbidden = error.message
        }
        if report.pushForbidden == nil {
            (report.relayed, report.relayRefused) = try await relay(&state)
        }
        report.pushSeconds = (clock.now - start).seconds
        start = clock.now
        report.pulled += try await pullLog(&state, &signatures, &schema, custodySeq: &report.custodySeq, removal: &report.removal, sealedKeys: &sealedKeys)
        if !keysFetched { try await syncKeys(signer: signer, always: false, pulled: sealedKeys, schema: schema) }
        try await fetchHistory(&signatures, schema: schema)
        try await refreshDevices(after: report)
        report.pullSeconds = (clock.now - start).seconds
        (report.conflicts, report.rejected) = try await replica.syncSummary()
        return report
    }

    // MARK: Pull

    /// The first sync's snapshot: current versions only, resumable page by page.
    private func snapshotIfNeeded(_ state: inout SyncState, _ signatures: inout PageSignatures?, _ schema: inout Schema,
                                  sealedKeys: inout Set<String>) async throws -> Int {
        guard state.snapshot != .done else { return 0 }
        var received = 0
        var total: Int?
        let client = self.client, limit = pageSize, project = settings.project, server = self.server
        // The page's own checks run on the fetching task: see `FetchedPage`.
        func fetch(after: HLC?, schema: Schema) -> Task<FetchedPage<Wire.SnapshotResponse>, any Error> {
            Task {
                let page = try await client.snapshot(after: after, limit: limit)
                return FetchedPage(page, changes: page.changes, serverTime: page.serverTime, schema: schema, project: project, server: server)
            }
        }
        var pending = fetch(after: state.snapshotResumesAfter, schema: schema)
        while true {
            let arrived = try await pending.value
            let page = arrived.page
            try PageCheck.snapshot(page, after: state.snapshotResumesAfter, from: server)
            schema = try await self.schema(forVersion: page.schemaVersion, current: schema)
            try arrived.checkChanges(page.changes, serverTime: page.serverTime, schema: schema, server: server)
            try await verify(page.changes, digests: arrived.digests, batches: page.batches, unsignedUpTo: page.unsignedUpTo, &signatures)
            sealedKeys.formUnion(Self.sealedKeyIDs(page.changes, schema: schema))
            // The next page travels, and is checked, while this one is applied.
            let next = page.next.map { fetch(after: $0, schema: schema) }
            if let pageTotal = page.total { total = pageTotal }
            received += page.changes.count
            var after = state
            after.received(page)
            do {
                _ = try await replica.applyPulled(page.changes, serverTime: page.serverTime, state: after, schema: schema, batches: page.batches,
                                                  stored: arrived.stored)
            } catch {
                next?.cancel()
                throw error
            }
            state = after
            progress.update("receiving current records", done: received, total: total)
            guard let next else { break }
            pending = next
        }
        return received
    }

    /// The log after the cursor, page by page.
    private func pullLog(_ state: inout SyncState, _ signatures: inout PageSignatures?, _ schema: inout Schema, custodySeq: inout Int64?,
                         removal: inout Replica.Removal, sealedKeys: inout Set<String>) async throws -> Int {
        // Records granted since the cursor are named on every page until the cursor passes the grant: fetched once.
        var fetched = Set<String>()
        // A cursor stored negative by an older client counts from 0.
        let start = max(0, state.cursor)
        var received = 0
        let client = self.client, node = settings.node, limit = pageSize, ownBound = state.ownAccepted
        let project = settings.project, server = self.server
        // Our own acknowledged changes are already here: the server leaves them out. The page's own
        // checks run on the fetching task: see `FetchedPage`.
        func fetch(after: Int64, schema: Schema) -> Task<FetchedPage<Wire.PullResponse>, any Error> {
            Task {
                let page = try await client.pull(after: after, limit: limit, skip: ownBound > after ? Wire.OwnChanges(node: node, upTo: ownBound) : nil)
                return FetchedPage(page, changes: page.changes, serverTime: page.serverTime, schema: schema, project: project, server: server)
            }
        }
        var pending = fetch(after: state.cursor, schema: schema)
        while true {
            let arrived = try await pending.value
            let page = arrived.page
            try PageCheck.log(page, after: state.cursor, from: server)
            schema = try await self.schema(forVersion: page.schemaVersion, current: schema)
            // Each change's digest once, for both the chain and the signatures.
            let chain = try PageCheck.chain(page, digests: arrived.digests, after: state.cursor, head: state.chain, project: project, from: server)
            try arrived.checkChanges(page.changes, serverTime: page.serverTime, schema: schema, server: server)
            try await verify(page.changes, digests: arrived.digests, batches: page.batches, unsignedUpTo: page.unsignedUpTo, &signatures)
            sealedKeys.formUnion(Self.sealedKeyIDs(page.changes, schema: schema))
            // The next page travels, and is checked, while this one is applied: client and server work at the same time.
            let next = page.more ? fetch(after: page.cursor, schema: schema) : nil
            var after = state
            after.received(page, chain: chain, now: WallClock.millis())
            do {
                let granted = try await grantedHistory(page.granted ?? [], fetched: &fetched, &signatures, schema: schema)
                let applied = try await replica.applyPulled(page.changes, removing: page.removed ?? [], granted: granted.changes, serverTime: page.serverTime,
                                                            state: after, schema: schema, batches: page.batches + granted.batches,
                                                            stored: arrived.stored)
                received += applied.applied
                removal.records += applied.removal.records
                removal.dropped += applied.removal.dropped
            } catch {
                next?.cancel()
                throw error
            }
            state = after
            custodySeq = page.custodySeq
            // Both checked non-negative, so neither difference can overflow.
            progress.update("pulling changes", done: Int(state.cursor - start), total: Int(page.latest - start))
            guard let next else { break }
            pending = next
        }
        return received
    }

    /// The whole history of records granted since the cursor and not fetched yet in this sync, with
    /// the batches that sign it, checked like a page.
    private func grantedHistory(_ granted: [String], fetched: inout Set<String>, _ signatures: inout PageSignatures?,
                                schema: Schema) async throws -> (changes: [Wire.LoggedChange], batches: [SignedBatch]) {
        let asked = granted.filter { fetched.insert($0).inserted }
        var changes: [Wire.LoggedChange] = [], batches: [SignedBatch] = []
        for start in stride(from: 0, to: asked.count, by: Wire.RecordsRequest.maxRecords) {
            let answer = try await client.records(Array(asked[start..<min(start + Wire.RecordsRequest.maxRecords, asked.count)]))
            try PageCheck.changes(answer.changes, serverTime: answer.serverTime, schema: schema, from: server)
            try await verify(answer.changes, batches: answer.batches, unsignedUpTo: answer.unsignedUpTo, &signatures)
            changes += answer.changes
            batches += answer.batches
        }
        return (changes, batches)
    }

    /// The versions automatic merges need and this replica lacks (it joined from a snapshot, which
    /// carries only the current versions): until it has them, such a field shows as a conflict.
    /// A server from before `/history` answers 404: the fields stay as they are.
    private func fetchHistory(_ signatures: inout PageSignatures?, schema: Schema) async throws {
        var fields = try await replica.incompleteMerges(schema: schema)
        while !fields.isEmpty {
            let asked = Array(fields.prefix(Wire.HistoryRequest.maxFields))
            let answer: Wire.HistoryResponse
            do {
                answer = try await client.history(asked)
            } catch let error as ClientError where error.status == 404 {
                return
            }
            if !answer.changes.isEmpty {
                try PageCheck.changes(answer.changes, serverTime: answer.serverTime, schema: schema, from: server)
                try await verify(answer.changes, batches: answer.batches, unsignedUpTo: answer.unsignedUpTo, &signatures)
                try await replica.applyHistory(answer.changes, schema: schema, batches: answer.batches)
            }
            fields.removeFirst(max(1, min(answer.answered, asked.count)))
        }
    }

    // MARK: Push

    /// Pushes the outbox in batches, record by record (`OutboxEntry`), as `PushMachine` decides. Accepted changes are
    /// applied locally at once (so the value never flickers back), rejected ones stay with their reason.
    private func push(_ state: inout SyncState, signer: BatchSigner?) async throws -> Int {
        var machine = PushMachine()
        var flights: [PushFlight] = []
        var pushed = 0
        let client = self.client, author = settings.user
        let schemaVersion = try await replica.pushSchemaVersion(current: settings.schema)
        var action = machine.start()
        do {
            while true {
                switch action {
                case .send(let after):
                    let entries = try await replica.pushable(after: after, limit: pushBatch, maxBytes: pushBytes)
                    if !entries.isEmpty {
                        let changes = entries.map { $0.change(author: author) }
                        // Signed as it leaves: re-stamping rewrites an entry, so it is signed as sent.
                        let batches = try signer.map { [try $0.sign(changes)] } ?? []
                        try await replica.storeBatches(batches)
                        flights.append(PushFlight(entries: entries, response: Task {
                            try await client.push(changes, batches: batches, schemaVersion: schemaVersion)
                        }))
                    }
                    action = machine.sent(upTo: entries.last?.position)
                case .record:
                    let flight = flights.removeFirst()
                    let response = try await flight.response.value
                    _ = try PageCheck.serverTime(response.serverTime, from: server)
                    let record = try await replica.recordPush(response, for: flight.entries, author: author, state: state, schema: settings.schema)
                    guard record.answered > 0 else {
                        throw ClientError("the server did not answer for the changes sent: your local changes are kept; try again, and tell the server's admin if it persists")
                    }
                    state = record.state
                    pushed += record.accepted
                    progress.update("pushing changes", done: pushed, total: nil)
                    action = machine.recorded(response, clockAhead: record.clockAhead)
                case .restamp(let serverTime):
                    try await replica.restamp(serverTime: try PageCheck.serverTime(serverTime, from: server), schema: settings.schema)
                    action = machine.restamped()
                case .markRejected(let responses):
                    try await replica.markRejected(responses)
                    action = .finish
                case .finish:
                    return pushed
                }
            }
        } catch {
            for flight in flights { flight.response.cancel() }
            throw error
        }
    }
}
