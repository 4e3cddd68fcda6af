import Foundation
import Shared

/// Everything the store knows that a batch of changes needs, loaded in the push transaction.
struct PushContext: Sendable {
    /// Stored changes with the same HLCs as changes in the batch (for duplicates and reused ids).
    var existing: [HLC: Change] = [:]
    /// Batch HLCs that some stored change of the same field already lists as a parent.
    var parentsOfStored: Set<HLC> = []
    /// The current heads of every field of every record the batch touches: record, then field.
    var heads: [String: [String: [Version]]] = [:]
    /// The collection of every record the batch touches that already exists.
    var collections: [String: String] = [:]
    /// The project's last sequence number.
    var lastSeq: Int64 = 0
    /// The user each node id of the batch belongs to (nodes never pushed before are absent).
    var nodeOwners: [NodeID: String] = [:]
    /// The access class of every record the batch touches that already exists (`AccessRule`).
    var accessClasses: [String: String] = [:]
    /// What the pusher may read: a change of a record they may not read is refused as unknown.
    var reader = ReadAccess.everything
    /// The project's groups, which an `_access` value may name.
    var groups: Set<String> = []
    /// Changes relayed for another user (received in a bundle): the author their signature proves,
    /// which the store writes instead of the pusher's name.
    var relayedAuthors: [HLC: String] = [:]
}

/// A (record, field) pair.
struct FieldKey: Hashable, Sendable {
    var record: String
    var field: String
}

/// What the store must write for a batch: computed in memory, written in the same transaction.
struct PushPlan: Sendable {
    /// The result of each change, in request order.
    var results: [Wire.ChangeResult] = []
    /// Accepted changes to append to the log.
    var inserts: [Wire.LoggedChange] = []
    /// Final heads of each field whose heads changed.
    var heads: [FieldKey: [Version]] = [:]
    /// The fields among `heads` that had heads before the batch (the others need no delete).
    var replacedHeads = Set<FieldKey>()
    /// Conflict rows to write: the conflict (open or now closed) and the sequence number that changed it.
    var conflicts: [FieldKey: Wire.ConflictState] = [:]
    /// The sequence number at which each conflict row changed.
    var conflictSeqs: [FieldKey: Int64] = [:]
    /// New records and their collections.
    var newRecords: [String: String] = [:]
    /// The project's last sequence number after the batch.
    var lastSeq: Int64 = 0
    /// Node ids this batch is the first to carry: they now belong to the author of their first change.
    var newNodes: [NodeID] = []
    /// The owner of each of `newNodes`, in the same order.
    var newNodeOwners: [String] = []
    /// Stored versions the automatic merges must read before the plan is final: the store loads
    /// them into the history and finishes the planning again. Empty in a final plan.
    var needs: [FieldKey: Set<HLC>] = [:]
}

/// Turns a batch of pushed changes into a plan, with the merge rule from Shared.
///
/// Pure: the store loads a `PushContext` and writes the `PushPlan` in one transaction. Every
/// change is judged on its own, so a change refused by validation never blocks the rest of the
/// batch (a body that does not decode at all is refused whole with 400), and a retry of the same
/// batch finds every change already known (all duplicates, nothing written).
enum PushPlanner {
    /// Plans the batch, with the stored versions in `history` for its automatic merges. A store
    /// calls `start` once and finishes it again while the plan `needs` versions; this is both at once.
    static func plan(_ changes: [Change], schema: Schema, author: String, policy: PushPolicy, context: PushContext,
                     history: FieldHistory = [:]) -> PushPlan {
        start(changes, schema: schema, author: author, policy: policy, context: context).finish(history: history)
    }

    /// Validates and merges the batch; `finish` derives its conflicts.
    static func start(_ changes: [Change], schema: Schema, author: String, policy: PushPolicy, context: PushContext) -> PushPlanning {
        var planning = PushPlanning(context: context, schema: schema, policy: policy, count: changes.count)
        // Changes of this batch accepted so far, by HLC: their position in `changes`.
        var accepted: [HLC: Int] = [:]
        accepted.reserveCapacity(changes.count)
        let refusedAccess = refusedAccess(changes, schema: schema, author: author, policy: policy, context: context)
        for (position, var change) in changes.enumerated() {
            change.author = context.relayedAuthors[change.hlc].flatMap { $0 == change.author ? $0 : nil } ?? author
            if let hidden = hiddenRecord(change, context: context) {
                planning.plan.results.append(hidden)
                continue
            }
            if refusedAccess.contains(change.record) && change.field != Change.accessField {
                // Accepted without the access change that came with it, the value would reach the whole team.
                planning.plan.results.append(.init(hlc: change.hlc, status: .rejected, code: "access_refused",
                                                   reason: "the record's access change in the same push was refused: correct it, then sync again"))
                continue
            }
            if let problem = problem(with: change, schema: schema, policy: policy, collections: planning.collections, groups: context.groups)
                ?? planning.forgedNode(change) {
                planning.plan.results.append(problem)
                continue
            }
            if let stored = context.existing[change.hlc] ?? accepted[change.hlc].map({ changes[$0] }) {
                planning.plan.results.append(stored.hasSameContent(as: change)
                    ? .init(hlc: change.hlc, status: .duplicate)
                    : .init(hlc: change.hlc, status: .rejected, code: "id_reused",
                            reason: "another change already has timestamp \(change.hlc.text): the replica's clock state is damaged; run 'casebook sync' again"))
                continue
            }
            if let tooMany = planning.tooManyVersions(change) {
                planning.plan.results.append(tooMany)
                continue
            }
            accepted[change.hlc] = position
            planning.accept(change)
        }
        return planning
    }

    /// The refusal of a change of a record the pusher may not read: word for word what a record no one
    /// ever made would get, were it refused (docs/security.md, "Need-to-know"). Checked before
    /// anything else, so no other answer (a wrong collection, say) tells that the record exists.
    static func hiddenRecord(_ change: Change, context: PushContext) -> Wire.ChangeResult? {
        guard let accessClass = context.accessClasses[change.record], !context.reader.mayRead(accessClass) else { return nil }
        return .init(hlc: change.hlc, status: .rejected, code: unknownRecordCode, reason: unknownRecordReason(change.record))
    }

    /// The records whose `_access` change in the batch is refused before merging (its other changes are held back with it).
    private static func refusedAccess(_ changes: [Change], schema: Schema, author: String, policy: PushPolicy, context: PushContext) -> Set<String> {
        var refused = Set<String>()
        for var change in changes where change.field == Change.accessField {
            change.author = context.relayedAuthors[change.hlc].flatMap { $0 == change.author ? $0 : nil } ?? author
            if problem(with: change, schema: schema, policy: policy, collections: context.collections, groups: context.groups) != nil {
                refused.insert(change.record)
            }
        }
        return refused
    }

    /// The code of a refused change of a record the server does not show its pusher.
    static let unknownRecordCode = "unknown_record"

    /// The reason given for it.
    static func unknownRecordReason(_ record: String) -> String {
        "record \(record) is not in this project: it may have been restricted to groups you are not in; ask a project admin"
    }

    /// Why a change is refused before merging, as a rejected result; nil when it may be merged.
    private static func problem(with change: Change, schema: Schema, policy: PushPolicy, collections: [String: String],
                                groups: Set<String>) -> Wire.ChangeResult? {
        func reject(_ code: String, _ reason: String) -> Wire.ChangeResult {
            .init(hlc: change.hlc, status: .rejected, code: code, reason: reason)
        }
        guard RecordID.isValid(change.record) else {
            return reject("invalid", "record id '\(change.record.prefix(40))' is not valid: ids are 32 characters 0-9a-f")
        }
        if let problem = MergeRule.structuralProblem(change) { return reject("invalid", problem) }
        if let problem = MergeRule.sizeProblem(change) {
            return reject("too_many_versions", problem + ": resolve the record's conflicts first, then edit or delete it again")
        }
        do {
            // Retired fields and terms are refused only to changes made with the current version:
            // one made offline with an older version was valid then.
            try schema.validate(change, refusingDeprecated: (policy.schemaVersion ?? 0) >= schema.version)
        } catch {
            return reject("invalid", error.message)
        }
        if change.field == Change.accessField, let unknown = AccessRule.groups(change.value).first(where: { !groups.contains($0) }) {
            return reject("invalid", "there is no group '\(unknown)' in this project: an admin makes it with 'casebook-server group add \(unknown)'")
        }
        if let collection = collections[change.record], collection != change.collection {
            return reject("invalid", "record \(change.record) belongs to \(collection), not \(change.collection)")
        }
        if change.hlc.millis > policy.now, change.hlc.millis - policy.now > policy.maxDriftMillis {
            let ahead = (change.hlc.millis - policy.now) / 1000
            return reject("clock_ahead",
                          "the change is stamped \(ahead) s ahead of the server's clock (the limit is \(policy.maxDriftMillis / 1000) s): "
                          + "correct the device's date and time, or sync again so the client re-stamps it")
        }
        return nil
    }
}
