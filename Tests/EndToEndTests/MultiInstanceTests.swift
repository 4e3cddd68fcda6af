import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing
@testable import Shared

/// Two `casebook-server` processes on one PostgreSQL database, as behind a load balancer.
@Suite(.serialized) struct MultiInstanceTests {
    /// Four researchers push through two instances at once, new records and conflicting edits of
    /// the same 100 records, while a watcher pulls small pages from both instances in turn.
    /// The watcher must see every sequence number exactly once and in order (a change committed
    /// late with a smaller number would be skipped), and every edit must survive.
    @Test func twoInstancesOnOneDatabaseNeitherSkipNorRepeatNorLoseAnUpdate() async throws {
        let first = try RunningServer(store: .postgres)
        defer { first.cleanUp() }
        let writers = ["ana", "bek", "cem", "dan"]
        let tokens = try first.setUp(users: writers.map { ($0, "researcher") } + [("watcher", "viewer")])
        try first.start(extra: ["--database-pool-size", "4"])
        let second = RunningServer(sharing: first)
        defer { second.stop() }
        try second.start(extra: ["--database-pool-size", "4"])
        #expect(second.url != first.url)

        let people = writers.map(Researcher.init)
        defer { people.forEach { $0.cleanUp() } }
        for (index, person) in people.enumerated() {
            try person.initialize(server: index % 2 == 0 ? first : second, token: tokens[person.name])
        }
        // 100 shared records, known to everyone before they all edit them offline.
        try people[0].ok("import", "incidents", try FaultTests.incidentsCSV(100, tag: "shared", for: people[0]))
        for person in people { _ = try person.syncJSON() }
        let shared = try people[0].ok("export", "incidents").stdout
        for person in people {
            try person.ok("import", "incidents", try FaultTests.incidentsCSV(300, tag: person.name, for: person))
            let edited = shared.replacingOccurrences(of: "Алматы", with: "\(person.name)-Astana")
            try person.ok("import", "incidents", try person.file("edit.csv", edited))
        }

        let watcher = Watcher(servers: [first.url, second.url], token: try #require(tokens["watcher"]))
        let watching = Task { try await watcher.watch() }
        // Everyone pushes at once, in small batches so that the pushes interleave.
        let syncs = try people.map { try FaultTests.launch($0, ["sync", "--batch-size", "100"]) }
        for sync in syncs { sync.waitUntilExit() }
        #expect(syncs.allSatisfy { $0.terminationStatus == 0 })
        for person in people { _ = try person.syncJSON() }
        watcher.stop()
        let seen = try await watching.value

        // Every number once, in order, none missing: exactly 1...latest.
        let fresh = try await watcher.pullEverything(from: second.url)
        let latest = try #require(fresh.last?.seq)
        #expect(watcher.problems.isEmpty, "\(watcher.problems.prefix(5))")
        // Compared as booleans: on failure, a dump of 4,000 changes would hide the message.
        let seenAll = seen.map(\.seq) == Array(1...latest), freshAll = fresh.map(\.seq) == Array(1...latest)
        #expect(seenAll, "the watcher saw \(seen.count) changes for numbers 1...\(latest), \(Set(seen.map(\.seq)).count) distinct")
        #expect(freshAll, "a full pull holds \(fresh.count) changes for numbers 1...\(latest)")
        let same = seen.map(\.hlc) == fresh.map(\.hlc)
        #expect(same, "the watcher saw different changes under the same numbers")
        #expect(watcher.pages > 20, "the watcher should have pulled many pages while the pushes ran")
        // 100 shared records (3 fields), 4 × 300 new records (3 fields), 4 × 100 edits.
        #expect(latest == 300 + 4 * 900 + 4 * 100, "changes by field: \(Dictionary(grouping: fresh, by: \.field).mapValues(\.count))")

        // No update lost: each shared record's location is one conflict holding all four values.
        for person in people {
            let conflicts = try person.conflicts()
            #expect(conflicts.count == 100)
            for conflict in conflicts {
                let values = Set((conflict["values"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String })
                #expect(Set(values.map { String($0.prefix(while: { $0 != "-" })) }) == Set(writers))
            }
        }
        let exports = try people.map { try $0.export("incidents") }
        #expect(exports.allSatisfy { $0 == exports[0] })
    }
}

/// Pulls the change log through the HTTP API, alternating between server instances.
private final class Watcher: @unchecked Sendable {
    struct Seen: Equatable {
        var seq: Int64
        var hlc: String
        var field: String
    }

    let servers: [String]
    let token: String
    private let lock = NSLock()
    private var stopping = false
    private var problemList: [String] = []
    private var pageCount = 0

    init(servers: [String], token: String) {
        self.servers = servers
        self.token = token
    }

    var problems: [String] { lock.withLock { problemList } }
    var pages: Int { lock.withLock { pageCount } }

    func stop() { lock.withLock { stopping = true } }

    /// Pulls pages of 37 until stopped and caught up; checks every page against the cursor.
    func watch() async throws -> [Seen] {
        var seen: [Seen] = []
        var cursor: Int64 = 0
        var turn = 0
        while true {
            let finishing = lock.withLock { stopping }
            let page = try await pull(from: servers[turn % servers.count], after: cursor, limit: 37)
            turn += 1
            lock.withLock { pageCount += 1 }
            var previous = cursor
            for logged in page.changes {
                if logged.seq <= previous {
                    lock.withLock { problemList.append("seq \(logged.seq) after \(previous) (cursor \(cursor))") }
                }
                previous = logged.seq
                seen.append(Seen(seq: logged.seq, hlc: logged.change.hlc.text, field: logged.change.field))
            }
            if page.cursor < previous {
                lock.withLock { problemList.append("cursor \(page.cursor) behind change \(previous)") }
            }
            cursor = page.cursor
            if !page.more {
                if finishing { return seen }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    /// The whole log from the start, in big pages.
    func pullEverything(from server: String) async throws -> [Seen] {
        var seen: [Seen] = []
        var cursor: Int64 = 0
        while true {
            let page = try await pull(from: server, after: cursor, limit: 5_000)
            seen += page.changes.map { Seen(seq: $0.seq, hlc: $0.change.hlc.text, field: $0.change.field) }
            cursor = page.cursor
            if !page.more { return seen }
        }
    }

    private func pull(from server: String, after: Int64, limit: Int) async throws -> Wire.PullResponse {
        var request = URLRequest(url: try #require(URL(string: "\(server)/v1/projects/kz/pull?after=\(after)&limit=\(limit)")))
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (body, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw PullFailed(description: "pull from \(server) answered \(status): \(String(decoding: body, as: UTF8.self))")
        }
        return try JSONDecoder().decode(Wire.PullResponse.self, from: body)
    }

    struct PullFailed: Error, CustomStringConvertible {
        var description: String
    }
}
