import Foundation

// A pull page's JSON keeps the key `conflicts`, always an empty list. Pages used to list the
// conflicts their changes opened or closed; no client read the list (a replica derives its
// conflicts from the heads), so the server stopped reading it for every page. Clients before
// this version decode a page only when the key is there (both `WireCodec` and the `Codable`
// conformance required it), so the server keeps sending it empty; this version's readers
// ignore it, so a later server may leave it out.
//
// `custodySeq` (evidence files) is optional both ways: servers before it leave it out, and clients
// before it skip it like any unknown key. So is `chain` (the log's hash chain, `Wire.PageChain`),
// and so are `removed` and `granted` (need-to-know), and `schemaVersion`.
extension Wire.PullResponse: Codable {
    private enum CodingKeys: String, CodingKey {
        case changes, conflicts, cursor, more, latest, serverTime, custodySeq, batches, unsignedUpTo, chain, removed, granted, schemaVersion
    }

    /// Reads a page; a `conflicts` list, if any, is ignored.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            changes: try container.decode([Wire.LoggedChange].self, forKey: .changes),
            cursor: try container.decode(Int64.self, forKey: .cursor),
            more: try container.decode(Bool.self, forKey: .more),
            latest: try container.decode(Int64.self, forKey: .latest),
            serverTime: try container.decode(UInt64.self, forKey: .serverTime),
            custodySeq: try container.decodeIfPresent(Int64.self, forKey: .custodySeq),
            batches: try container.decodeIfPresent([SignedBatch].self, forKey: .batches) ?? [],
            unsignedUpTo: try container.decodeIfPresent(Int64.self, forKey: .unsignedUpTo),
            chain: try container.decodeIfPresent(Wire.PageChain.self, forKey: .chain),
            removed: try container.decodeIfPresent([String].self, forKey: .removed),
            granted: try container.decodeIfPresent([String].self, forKey: .granted),
            schemaVersion: try container.decodeIfPresent(Int.self, forKey: .schemaVersion))
    }

    /// Writes a page with an empty `conflicts` list, for older clients.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(changes, forKey: .changes)
        try container.encode([Wire.ConflictState](), forKey: .conflicts)
        try container.encode(cursor, forKey: .cursor)
        try container.encode(more, forKey: .more)
        try container.encode(latest, forKey: .latest)
        try container.encode(serverTime, forKey: .serverTime)
        try container.encodeIfPresent(custodySeq, forKey: .custodySeq)
        if !batches.isEmpty { try container.encode(batches, forKey: .batches) }
        try container.encodeIfPresent(unsignedUpTo, forKey: .unsignedUpTo)
        try container.encodeIfPresent(chain, forKey: .chain)
        try container.encodeIfPresent(removed, forKey: .removed)
        try container.encodeIfPresent(granted, forKey: .granted)
        try container.encodeIfPresent(schemaVersion, forKey: .schemaVersion)
    }
}
