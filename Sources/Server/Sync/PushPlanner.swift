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
    /// Node ids this batch is the first to carry: they now belong to its author.
    var newNodes: [NodeID] = []
}

/// Turns a batch of pushed changes into a plan, with the merge rule from Shared.
///
/// Pure: the store loads a `PushContext` and writes the `PushPlan` in one transaction. Every
/// change is judged on its own, so a change refused by validation never blocks the rest of the
/// batch (a body that does not decode at all is refused whole with 400), and a retry of the same
/// batch finds every change already known (all duplicates, nothing written).
enum PushPlanner {
    /// Plans the batch.
    static func plan(_ changes: [Change], schema: Schema, author: String, policy: PushPolicy, context: PushContext) -> PushPlan {
        var planning = Planning(context: context, policy: policy, count: changes.count)
        // Changes of this batch accepted so far, by HLC: their position in `changes`.
        var accepted: [HLC: Int] = [:]
        accepted.reserveCapacity(changes.count)
        for (position, var change) in changes.enumerated() {
            change.author = author
            if let problem = problem(with: change, schema: schema, policy: policy, collections: planning.collections)
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
        return planning.finish()
    }

    /// Why a change is refused before merging, as a rejected result; nil when it may be merged.
    private static func problem(with change: Change, schema: Schema, policy: PushPolicy, collections: [String: String]) -> Wire.ChangeResult? {
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
            try schema.validate(change)
        } catch {
            return reject("invalid", error.message)
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

/// One batch being planned: the merge so far and the plan it writes.
///
/// Its work is linear in the batch: each change is merged into its field's heads (kept sorted, at
/// most `MergeRule.Limits.headsPerField` of them), and the conflicts of a record are derived once per
/// batch, in `finish`, not once per change.
private struct Planning {
    /// A change whose result names the conflict its record is in after the batch, if any.
    struct PendingConflict {
        var result: Int
        var record: String
        var field: String
        var kind: MergeOutcome.Kind
    }

    let context: PushContext
    let policy: PushPolicy
    var plan: PushPlan
    var merge = BatchMerge()
    var collections: [String: String]
    var nodeOwners: [NodeID: String]
    /// Accepted changes that may have opened, changed or closed a conflict.
    var pending: [PendingConflict] = []
    /// The records of `pending`, with the sequence number of their last change in the batch.
    var conflictRecords: [String: Int64] = [:]

    init(context: PushContext, policy: PushPolicy, count: Int) {
        self.context = context
        self.policy = policy
        self.collections = context.collections
        self.nodeOwners = context.nodeOwners
        plan = PushPlan(lastSeq: context.lastSeq)
        plan.results.reserveCapacity(count)
        plan.inserts.reserveCapacity(count)
    }

    /// A rejection when the change is stamped with a node id that belongs to another user: a
    /// replica's own changes are skipped when it pulls, so a forged node would hide the change from
    /// that replica forever. The first push carrying a node id binds it to its author.
    func forgedNode(_ change: Change) -> Wire.ChangeResult? {
        guard let owner = nodeOwners[change.hlc.node], owner != change.author else { return nil }
        return .init(hlc: change.hlc, status: .rejected, code: "node_forged",
                     reason: "the change is stamped with node id \(change.hlc.node.rawValue), which belongs to another user's replica: "
                     + "a replica may only stamp its own node id; if this replica was copied from someone else's, make a new one with 'casebook init'")
    }

    /// The heads of a field before the next change: the stored ones, with this batch's merges on top.
    func heads(record: String, field: String) -> [Version] {
        merge.state(record: record, field: field)?.heads ?? context.heads[record]?[field] ?? []
    }

    /// A rejection when the change would add a head to a field that already holds the most allowed
    /// (a change building on one of them, or already built on, adds none).
    func tooManyVersions(_ change: Change) -> Wire.ChangeResult? {
        let heads = heads(record: change.record, field: change.field)
        guard heads.count >= MergeRule.Limits.headsPerField else { return nil }
        let parents = Set(change.parents)
        if heads.contains(where: { parents.contains($0.hlc) }) || context.parentsOfStored.contains(change.hlc)
            || merge.isParent(change.hlc, record: change.record, field: change.field) {
            return nil
        }
        return .init(hlc: change.hlc, status: .rejected, code: "too_many_versions",
                     reason: "field '\(change.field)' of record \(change.record) already holds \(heads.count) concurrent values, the most allowed: "
                     + "resolve its conflict ('casebook resolve'), then edit it again")
    }

    /// The heads of every field of a record: the stored ones, with this batch's merges on top.
    func fields(of record: String) -> [String: [Version]] {
        var fields = context.heads[record] ?? [:]
        for (field, edit) in merge.records[record] ?? [:] { fields[field] = edit.after.heads }
        return fields
    }

    /// Merges a change that passed validation and is new to the store, and records its result.
    mutating func accept(_ change: Change) {
        let stored = context.heads[change.record]
        // Read without holding the batch's fields of the record: holding them would copy them on the merge's write.
        let headsBefore = merge.state(record: change.record, field: change.field)?.heads.count ?? stored?[change.field]?.count ?? 0
        let hadDeletion = merge.state(record: change.record, field: Change.deletedField) != nil || stored?[Change.deletedField] != nil
        let outcome = merge.merge(change, storedChild: { context.parentsOfStored.contains(change.hlc) },
                                  storedHeads: { stored?[change.field] ?? [] })
        plan.lastSeq += 1
        let seq = plan.lastSeq
        if nodeOwners[change.hlc.node] == nil {
            nodeOwners[change.hlc.node] = change.author
            plan.newNodes.append(change.hlc.node)
        }
        if collections[change.record] == nil {
            collections[change.record] = change.collection
            plan.newRecords[change.record] = change.collection
        }
        plan.inserts.append(Wire.LoggedChange(seq: seq, change: change, receivedAt: policy.now))
        plan.results.append(.init(hlc: change.hlc, status: .applied, seq: seq))
        // A conflict can only open, change or close where a field has (or had) several heads,
        // or where deletes are involved; everything else (most changes) skips the bookkeeping.
        if headsBefore > 1 || outcome.state.heads.count > 1 || change.isDeletionMarker || hadDeletion {
            pending.append(PendingConflict(result: plan.results.count - 1, record: change.record, field: change.field, kind: outcome.kind))
            conflictRecords[change.record] = seq
        }
    }

    /// The plan, with the final heads of every field the batch touched and the conflicts of every
    /// record where one may have changed, derived once per record from its heads before and after.
    mutating func finish() -> PushPlan {
        plan.heads.reserveCapacity(merge.records.count)
        for (record, fields) in merge.records {
            for (field, edit) in fields {
                let key = FieldKey(record: record, field: field)
                plan.heads[key] = edit.after.heads
                if !edit.before.heads.isEmpty { plan.replacedHeads.insert(key) }
            }
        }
        var conflictsAfter: [String: [String: Conflict]] = [:]
        for (record, seq) in conflictRecords {
            let collection = collections[record] ?? ""
            let before = Conflict.open(record: record, collection: collection, fields: context.heads[record] ?? [:])
            let after = Conflict.open(record: record, collection: collection, fields: fields(of: record))
            conflictsAfter[record] = after
            for field in Set(before.keys).union(after.keys) where before[field] != after[field] {
                let fieldKey = FieldKey(record: record, field: field)
                if let open = after[field] {
                    plan.conflicts[fieldKey] = Wire.ConflictState(conflict: open, open: true)
                } else if let closed = before[field] {
                    plan.conflicts[fieldKey] = Wire.ConflictState(conflict: closed, open: false)
                }
                plan.conflictSeqs[fieldKey] = seq
            }
        }
        // A change that made a conflict, or touched a record left in a delete conflict, names it.
        for entry in pending {
            let after = conflictsAfter[entry.record] ?? [:]
            guard let conflict = entry.kind == .conflict ? after[entry.field] : after[Change.deletedField] else { continue }
            plan.results[entry.result].status = .conflict
            plan.results[entry.result].conflict = conflict.id
        }
        return plan
    }
}
