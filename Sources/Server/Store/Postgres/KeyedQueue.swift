import Foundation

/// One-at-a-time queues by key (FIFO), for work that the database would serialise anyway.
actor KeyedQueue {
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var busy = Set<String>()

    /// Waits for the key's turn; throws if the task was cancelled meanwhile (and gives the turn back).
    func acquire(_ key: String) async throws {
        if busy.insert(key).inserted { return }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
        if Task.isCancelled {
            release(key)
            throw CancellationError()
        }
    }

    /// Ends the current turn: the next waiter (if any) gets it.
    func release(_ key: String) {
        if var queue = waiting[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[key] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            busy.remove(key)
        }
    }
}
