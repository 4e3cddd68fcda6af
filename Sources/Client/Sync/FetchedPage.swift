import Shared

/// A pulled page as the task that fetched it leaves it: decoded, each change's digest taken and its
/// stored form made, and its changes checked against the schema the sync held when the fetch began.
/// That work needs nothing but the page, so it runs beside the apply of the page before, on the
/// other core, instead of on the critical path (an initial pull spent about a seventh of its time
/// there; docs/performance.md).
///
/// The check's outcome is kept, not thrown, so that the sync still refuses a page in the order it
/// always did: its shape and cursor first, then its changes.
struct FetchedPage<Page: Sendable>: Sendable {
    let page: Page
    /// Each change's digest, in the page's order: for the hash chain and the signatures.
    let digests: [ChangeDigest]
    /// Each change's stored form, in the page's order: what the replica writes (`Replica.applyAccepted`).
    let stored: [StoredChange]
    /// The schema version the changes were checked against, and what the check found.
    private let checkedAgainst: Int
    private let check: Result<Void, any Error>

    init(_ page: Page, changes: [Wire.LoggedChange], serverTime: UInt64, schema: Schema, project: String, server: String) {
        self.page = page
        digests = ChangeDigest.of(changes.lazy.map(\.change), project: project)
        stored = changes.map { StoredChange($0.change) }
        checkedAgainst = schema.version
        check = Result { try PageCheck.changes(changes, serverTime: serverTime, schema: schema, from: server) }
    }

    /// Throws what the check of the page's changes found; checks them again when the page moved the
    /// sync to a newer schema than the one they were checked against.
    func checkChanges(_ changes: [Wire.LoggedChange], serverTime: UInt64, schema: Schema, server: String) throws {
        guard schema.version == checkedAgainst else {
            return try PageCheck.changes(changes, serverTime: serverTime, schema: schema, from: server)
        }
        try check.get()
    }
}
