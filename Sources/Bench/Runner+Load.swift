import Foundation
import Shared

/// How the load generator's replicas sync.
struct LoadPlan {
    /// Replicas played at once.
    var replicas: Int
    /// Changes each replica makes in all (records of the benchmark's 12 fields).
    var changesEach: Int
    /// Syncs each replica makes; its changes are spread over them.
    var syncs: Int
    /// Seconds between two syncs of one replica; the replicas' syncs are spread evenly over it.
    /// 0: every replica syncs at once, and again as soon as its sync ends.
    var interval: Double
    /// Users the replicas belong to (round robin).
    var users = 10

    /// When sync `round` of replica `index` is due, in seconds from the start.
    func due(_ index: Int, round: Int) -> Double {
        interval * (Double(round) + Double(index) / Double(replicas))
    }

    /// Changes pushed by sync `round`: an even share, the rest on the last.
    func share(round: Int) -> Int {
        round == syncs - 1 ? changesEach - (changesEach / syncs) * (syncs - 1) : changesEach / syncs
    }
}

/// What one load step measured.
struct LoadOutcome {
    var plan: LoadPlan
    /// Each sync's latency, from when it was due (not when the generator got round to it) to its end.
    var latencies: [Double]
    var errors: [String]
    var seconds: Double
    var serverCPU: Double
    var generatorCPU: Double
    /// Changes delivered by pulls in all, and whether every replica ended holding everyone else's.
    var delivered: Int
    var converged: Bool

    func percentile(_ fraction: Double) -> Double {
        let sorted = latencies.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }
}

extension Runner {
    /// Many replicas played from this one process against a fresh server (see `LoadReplica`): each
    /// syncs `plan.syncs` times, pushing its share of its changes and pulling everyone else's.
    mutating func load(_ plan: LoadPlan) async throws -> LoadOutcome {
        let (server, token) = try freshServer()
        defer { server.stop() }
        let target = try LoadServer(url: server.url, project: "bench")
        var tokens = [("bench", token)]
        for number in 1..<max(1, min(plan.users, plan.replicas)) {
            let name = "load\(number)"
            let added = try server.admin(["user", "add", name, "--project", "bench"])
            tokens.append((name, added.stdout.split(separator: "\n").last.map(String.init) ?? ""))
        }
        let replicas = (0..<plan.replicas).map { index in
            let (user, token) = tokens[index % tokens.count]
            return LoadReplica(index: index, user: user, token: token, changesEach: plan.changesEach)
        }
        try await Self.forEach(replicas, atMost: 32) { replica in try await replica.register(at: target) }

        let serverBefore = Processes.cpuSeconds(pid: server.pid) ?? 0
        let generatorBefore = Processes.ownCPUSeconds()
        let start = ContinuousClock.now
        let finished = await withTaskGroup(of: (LoadReplica, [Double], [String]).self) { group in
            for (index, replica) in replicas.enumerated() {
                group.addTask {
                    var replica = replica, latencies: [Double] = [], errors: [String] = []
                    for round in 0..<plan.syncs {
                        let due = plan.interval > 0 ? start + .seconds(plan.due(index, round: round)) : ContinuousClock.now
                        try? await Task.sleep(until: due, clock: .continuous)
                        do {
                            try await replica.sync(with: target, pushing: plan.share(round: round))
                            latencies.append((ContinuousClock.now - due).seconds)
                        } catch {
                            errors.append("\(error)")
                        }
                    }
                    return (replica, latencies, errors)
                }
            }
            var all: [(LoadReplica, [Double], [String])] = []
            for await one in group { all.append(one) }
            return all
        }
        let seconds = (ContinuousClock.now - start).seconds
        let serverCPU = (Processes.cpuSeconds(pid: server.pid) ?? 0) - serverBefore
        let generatorCPU = Processes.ownCPUSeconds() - generatorBefore

        // Untimed: every replica pulls to the end once more and must then hold everyone else's changes.
        let total = finished.reduce(0) { $0 + $1.0.pushed }
        let delivered = finished.reduce(0) { $0 + $1.0.received }
        let ended = try await Self.forEach(finished.map(\.0), atMost: 32) { replica in
            var replica = replica
            try await replica.sync(with: target, pushing: 0)
            return replica
        }
        let converged = ended.count == plan.replicas && ended.allSatisfy { $0.received == total - $0.pushed }
        return LoadOutcome(plan: plan, latencies: finished.flatMap(\.1), errors: finished.flatMap(\.2), seconds: seconds,
                           serverCPU: serverCPU, generatorCPU: generatorCPU, delivered: delivered, converged: converged)
    }

    /// The load phase's rows: one per step, then the largest step whose p99 stayed under a second.
    mutating func loadSteps(replicas steps: [Int], changesEach: Int, syncs: Int, interval: Double) async throws -> [Row] {
        var rows: [Row] = []
        var largest: Int?
        for count in steps {
            let outcome = try await load(LoadPlan(replicas: count, changesEach: changesEach, syncs: syncs, interval: interval))
            rows.append(Self.row(outcome))
            if outcome.errors.isEmpty, outcome.converged, outcome.percentile(0.99) < 1 { largest = max(largest ?? 0, count) }
        }
        let schedule = interval > 0 ? "every \(Self.number(interval)) s" : "back to back"
        rows.append(Row(phase: "load generator: most replicas with p99 under 1 s", size: "\(syncs) syncs each, \(schedule)",
                        time: nil, rate: nil, ratio: nil, note: largest.map { "\($0) replicas" } ?? "none of \(steps.map(String.init).joined(separator: ", "))"))
        return rows
    }

    private static func row(_ outcome: LoadOutcome) -> Row {
        let plan = outcome.plan
        let ms = { (seconds: Double) in String(format: "%.0f ms", seconds * 1000) }
        let schedule = plan.interval > 0 ? "every \(number(plan.interval)) s" : "back to back"
        var note = "p50 \(ms(outcome.percentile(0.5))), p99 \(ms(outcome.percentile(0.99))), max \(ms(outcome.percentile(1)))"
        note += "; \(outcome.latencies.count) syncs, \(outcome.delivered.formatted()) changes pulled"
        note += String(format: "; CPU: server %.1f s, generator %.1f s", outcome.serverCPU, outcome.generatorCPU)
        note += "; \(outcome.converged ? "converged" : "NOT CONVERGED"), errors \(outcome.errors.count)"
        if let first = outcome.errors.first { note += " (\(first))" }
        let pushed = plan.replicas * plan.changesEach
        return Row(phase: "load generator: \(plan.replicas) replicas, \(plan.syncs) syncs each \(schedule)",
                   size: "\(plan.changesEach) changes each", time: outcome.seconds, rate: Double(pushed) / outcome.seconds, ratio: nil, note: note)
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// Runs `body` on every element, at most `limit` at a time, and returns the results in order.
    @discardableResult
    static func forEach<T: Sendable, R: Sendable>(_ items: [T], atMost limit: Int,
                                                  _ body: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
        try await withThrowingTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: items.count)
            for (index, item) in items.enumerated() {
                if index >= limit, let (done, result) = try await group.next() { results[done] = result }
                group.addTask { (index, try await body(item)) }
            }
            for try await (done, result) in group { results[done] = result }
            return results.compactMap { $0 }
        }
    }
}
