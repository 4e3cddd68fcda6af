import Foundation
import Shared

/// Finds the review record each imported recommendation belongs to, from what the file names (a thematic list's
/// header, or a dataset's state-under-review, cycle and session columns), and creates it with `--create-review`.
///
/// A review matches when its state is the same state (by the states vocabulary, so `Türkiye` and `Turkey` are
/// one) and its cycle is the same (a session gives its cycle); when both sides give a session, it must be the same.
struct ReviewLinker {
    struct Review {
        var id: String
        var identity: ReviewIdentity
    }

    let collection: String
    let create: Bool
    private let states: TermMatcher?
    private var reviews: [Review]
    private var found: [ReviewIdentity: String] = [:]
    /// Rows linked to each review, for the summary.
    private(set) var linked: [String: Int] = [:]
    private(set) var created: Set<String> = []
    /// Rows whose review the replica does not have (without `--create-review`), by the review they name.
    private(set) var unmatched: [ReviewIdentity: Int] = [:]

    init(schema: Schema, create: Bool, editor: LocalEditor) throws {
        collection = schema.report?.reviews ?? "reviews"
        self.create = create
        states = schema.vocabulary("states").map(TermMatcher.init)
        reviews = try ReplicaQuery.list(collection: collection, filters: [], editor.db).map { view in
            var identity = ReviewIdentity(state: view.fields["state"]?.displayText)
            if case .integer(let cycle)? = view.fields["cycle"] { identity.cycle = cycle }
            identity.session = view.fields["session"].flatMap { ReviewIdentity.sessionNumber($0.displayText) }
            return Review(id: view.id, identity: identity)
        }
    }

    /// The review `identity` names: an existing one, or one made now with `--create-review`; nil (and counted as
    /// unmatched) when there is none to link to.
    mutating func review(for identity: ReviewIdentity, editor: inout LocalEditor) throws -> String? {
        if let id = found[identity] {
            linked[id, default: 0] += 1
            return id
        }
        let matches = reviews.filter { same($0.identity, identity) }
        guard matches.count <= 1 else {
            throw ClientError("\(matches.count) reviews in \(collection) are of \(identity.description) (\(matches.map { String($0.id.prefix(8)) }.joined(separator: ", "))): "
                              + "say which one with --review ID")
        }
        var id = matches.first?.id
        if id == nil && create { id = try make(identity, editor: &editor) }
        guard let id else {
            unmatched[identity, default: 0] += 1
            return nil
        }
        found[identity] = id
        linked[id, default: 0] += 1
        return id
    }

    /// Counts a row linked to `id` by `--review`.
    mutating func count(_ id: String) { linked[id, default: 0] += 1 }

    /// What to tell the user: which reviews rows were linked to (or made), and which reviews were missing.
    func notices() -> [String] {
        var notices: [String] = []
        for (id, rows) in linked.sorted(by: { $0.key < $1.key }) {
            let what = reviews.first { $0.id == id }?.identity.description ?? ""
            let verb = created.contains(id) ? "created review \(id.prefix(8)) (\(what)) and linked" : "linked"
            notices.append("\(verb) \(rows) row\(rows == 1 ? "" : "s") to review \(id.prefix(8)) (\(what))")
        }
        for (identity, rows) in unmatched.sorted(by: { $0.key.description < $1.key.description }) {
            notices.append("no review of \(identity.description) in \(collection): \(rows) row\(rows == 1 ? " is" : "s are") not linked to a review; "
                           + "import again with --create-review to create it, or with --review ID")
        }
        return notices
    }

    private func same(_ review: ReviewIdentity, _ wanted: ReviewIdentity) -> Bool {
        guard let a = review.state, let b = wanted.state, stateKey(a) == stateKey(b) else { return false }
        guard let cycle = review.effectiveCycle, cycle == wanted.effectiveCycle else { return false }
        if let s1 = review.session, let s2 = wanted.session, s1 != s2 { return false }
        return true
    }

    private func stateKey(_ name: String) -> String {
        states?.term(name)?.id ?? Schema.foldedKey(name)
    }

    private mutating func make(_ identity: ReviewIdentity, editor: inout LocalEditor) throws -> String {
        guard let state = identity.state, let cycle = identity.effectiveCycle else {
            throw ClientError("the file names \(identity.description), not enough to create a review: pass --review ID of its review "
                              + "(create one with 'casebook add \(collection) --set state=STATE --set cycle=N')")
        }
        let name = states?.term(state)?.label ?? state
        var values: [String: FieldValue] = ["state": .text(name), "cycle": .integer(cycle)]
        if let session = identity.session { values["session"] = .text(session) }
        let id = try editor.add(collection: collection, values: values)
        var made = identity
        made.state = name
        made.cycle = cycle
        reviews.append(Review(id: id, identity: made))
        created.insert(id)
        return id
    }
}
