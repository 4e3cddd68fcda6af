import Foundation
import Shared

/// One batch being planned: the merge so far and the plan it writes.
///
/// Its work is linear in the batch: each change is merged into its field's heads (kept sorted, at
/// most `MergeRule.Limits.headsPerField` of them), and the conflicts of a record are derived once per
/// batch, in `finish`, not once per change. `finish` does not change the planning: a store runs it
/// again with more history when the automatic merges of long text need stored versions.
struct PushPlanning {
    /// A change whose result names the conflict its record is in after the batch, if any.
    struct PendingConflict {
        var result: Int
        var record: String
        var field: String
        var kind: MergeOutcome.Kind
    }

    let context: PushContext
    let schema: Schema
    let policy: PushPolicy
    var plan: PushPlan
    var merge = BatchMerge()
    var collections: [String: String]
    var nodeOwners: [NodeID: String]
    /// Accepted changes that may have opened, changed or closed a conflict.
    var pending: [PendingConflict] = []
    /// The records of `pending`, with the sequence number of their last change in the batch.
    var conflictRecords: [String: Int64] = [:]

    init(context: PushContext, schema: Schema, policy: PushPolicy, count: Int) {
        self.context = context
        self.schema = schema
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
            plan.newNodeOwners.append(change.author)
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
    /// Fields whose different values merge automatically are not in conflict. The merges come
    /// first: when they need stored versions `history` lacks, the plan lists them in `needs` and
    /// derives nothing else (the store loads them and finishes again).
    func finish(history: FieldHistory) -> PushPlan {
        var plan = self.plan
        var rules: [String: FieldRules] = [:]
        for collection in Set(conflictRecords.keys.map { collections[$0] ?? "" }) { rules[collection] = FieldRules(schema, collection: collection) }
        var merges = Merges(history: history, inserts: plan.inserts)
        var merged: [String: (before: Set<String>, after: Set<String>)] = [:]
        for record in conflictRecords.keys {
            let recordRules = rules[collections[record] ?? ""] ?? .none
            // Before: as the last push that touched the record derived it, from stored history alone.
            merged[record] = (merges.merged(record: record, fields: context.heads[record] ?? [:], rules: recordRules, withBatch: false),
                              merges.merged(record: record, fields: fields(of: record), rules: recordRules, withBatch: true))
        }
        guard merges.needs.isEmpty else {
            plan.needs = merges.needs
            return plan
        }
        plan.heads.reserveCapacity(merge.records.count)
        for (record, fields) in merge.records {
            for (field, edit) in fields {
                let key = FieldKey(record: record, field: field)
                plan.heads[key] = edit.after.heads
                if !edit.before.heads.isEmpty { plan.replacedHeads.insert(key) }
            }
        }
        let conflictsAfter = deriveConflicts(into: &plan, rules: rules, merged: merged)
        // A change that made a conflict (of its field or its field's group), or touched a record left in a delete conflict, names it.
        for entry in pending {
            let after = conflictsAfter[entry.record] ?? [:]
            let name = rules[collections[entry.record] ?? ""]?.conflictName(of: entry.field) ?? entry.field
            guard let conflict = entry.kind == .conflict ? after[name] : after[Change.deletedField] else { continue }
            plan.results[entry.result].status = .conflict
            plan.results[entry.result].conflict = conflict.id
        }
        return plan
    }

    /// The conflict rows of every record where a conflict may have changed (opened, changed or
    /// closed), and each such record's open conflicts after the batch.
    private func deriveConflicts(into plan: inout PushPlan, rules: [String: FieldRules],
                                 merged: [String: (before: Set<String>, after: Set<String>)]) -> [String: [String: Conflict]] {
        var conflictsAfter: [String: [String: Conflict]] = [:]
        for (record, seq) in conflictRecords {
            let collection = collections[record] ?? ""
            let recordRules = rules[collection] ?? .none
            let before = Conflict.open(record: record, collection: collection, fields: context.heads[record] ?? [:], rules: recordRules,
                                       merged: merged[record]?.before ?? [])
            let after = Conflict.open(record: record, collection: collection, fields: fields(of: record), rules: recordRules,
                                      merged: merged[record]?.after ?? [])
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
        return conflictsAfter
    }
}

/// The automatic merges of the fields a batch leaves (or found) with several values, over the
/// stored history loaded so far and the batch's own changes.
private struct Merges {
    let history: FieldHistory
    /// The batch's accepted changes by field, indexed on first use.
    private let inserts: [Wire.LoggedChange]
    private var batch: [FieldKey: [Change]]?
    /// Stored versions still to load.
    private(set) var needs: [FieldKey: Set<HLC>] = [:]

    init(history: FieldHistory, inserts: [Wire.LoggedChange]) {
        self.history = history
        self.inserts = inserts
    }

    /// The fields of a record whose heads hold several values that combine, reading the stored
    /// history and, `withBatch`, the batch's changes.
    mutating func merged(record: String, fields: [String: [Version]], rules: FieldRules, withBatch: Bool) -> Set<String> {
        var merged = Set<String>()
        for field in rules.mergeCandidates(fields) {
            let key = FieldKey(record: record, field: field)
            var graph = history[key] ?? VersionGraph()
            if withBatch { for change in batchChanges(key) { graph.add(change) } }
            switch FieldMerge.resolve(FieldState(heads: fields[field] ?? []), hook: rules.hook(for: field), graph: graph) {
            case .merged?: merged.insert(field)
            case .needs(let hlcs)?: needs[key, default: []].formUnion(hlcs)
            default: break
            }
        }
        return merged
    }

    private mutating func batchChanges(_ key: FieldKey) -> [Change] {
        if batch == nil {
            var byField: [FieldKey: [Change]] = [:]
            for logged in inserts { byField[FieldKey(record: logged.change.record, field: logged.change.field), default: []].append(logged.change) }
            batch = byField
        }
        return batch?[key] ?? []
    }
}
