import Foundation

/// Fast JSON for the wire types on the hot path: push bodies and answers, pull and snapshot pages.
///
/// The JSON is exactly what the `Codable` conformances read and write (documented in
/// docs/protocol.md); this only avoids the generic coding machinery, which dominated the cost
/// of a sync (see docs/performance.md). Anything the fast reader does not accept is handed to
/// `JSONDecoder`, so every error message still names the field. `fallback: false` turns that off,
/// so that tests can hold the fast reader itself to `JSONDecoder`'s answers.
package enum WireCodec {
    // MARK: Decoding

    /// Decodes a push body.
    package static func decodePushRequest(_ data: Data) throws -> Wire.PushRequest { try decodePushRequest(data, fallback: true) }

    /// Decodes a push body; without the fallback, what the fast reader refuses throws `FastJSONReader.Failure`.
    package static func decodePushRequest(_ data: Data, fallback: Bool) throws -> Wire.PushRequest {
        try decode(data, as: Wire.PushRequest.self, fallback: fallback) { reader in
            var changes: [Change]?, batches: [SignedBatch] = [], schemaVersion: Int?
            try reader.readObject { reader, key in
                if key == "changes" {
                    var list: [Change] = []
                    try reader.readArray { list.append(try readChange(&$0)) }
                    changes = list
                } else if key == "batches" {
                    batches = try readBatches(&reader)
                } else if key == "schemaVersion" {
                    schemaVersion = Int(exactly: try reader.readInt64())
                } else {
                    try reader.skipValue()
                }
            }
            guard let changes else { throw FastJSONReader.Failure() }
            return Wire.PushRequest(changes: changes, batches: batches, schemaVersion: schemaVersion)
        }
    }

    /// Decodes a pull page.
    package static func decodePullResponse(_ data: Data) throws -> Wire.PullResponse { try decodePullResponse(data, fallback: true) }

    /// Decodes a pull page; without the fallback, what the fast reader refuses throws `FastJSONReader.Failure`.
    package static func decodePullResponse(_ data: Data, fallback: Bool) throws -> Wire.PullResponse {
        try decode(data, as: Wire.PullResponse.self, fallback: fallback) { reader in
            var changes: [Wire.LoggedChange]?, cursor: Int64?, more: Bool?, latest: Int64?, serverTime: UInt64?, custodySeq: Int64?
            var batches: [SignedBatch] = [], unsignedUpTo: Int64?, chain: Wire.PageChain?
            var removed: [String]?, granted: [String]?, schemaVersion: Int?
            try reader.readObject { reader, key in
                switch key {
                case "batches": batches = try readBatches(&reader)
                case "unsignedUpTo": unsignedUpTo = try reader.readInt64()
                case "changes": changes = try readLoggedChanges(&reader)
                case "cursor": cursor = try reader.readInt64()
                case "more": more = try reader.readBool()
                case "latest": latest = try reader.readInt64()
                case "serverTime": serverTime = try reader.readUInt64()
                case "custodySeq": custodySeq = try reader.readInt64()
                case "chain": chain = try readPageChain(&reader)
                case "removed": removed = try reader.readStringArray()
                case "granted": granted = try reader.readStringArray()
                case "schemaVersion": schemaVersion = Int(exactly: try reader.readInt64())
                default: try reader.skipValue()
                }
            }
            // `conflicts`, always empty now, is skipped like any unknown key (see Wire+PullResponse.swift).
            guard let changes, let cursor, let more, let latest, let serverTime else { throw FastJSONReader.Failure() }
            return Wire.PullResponse(changes: changes, cursor: cursor, more: more, latest: latest, serverTime: serverTime, custodySeq: custodySeq,
                                     batches: batches, unsignedUpTo: unsignedUpTo, chain: chain,
                                     removed: removed, granted: granted, schemaVersion: schemaVersion)
        }
    }

    /// Decodes a snapshot page.
    package static func decodeSnapshotResponse(_ data: Data) throws -> Wire.SnapshotResponse { try decodeSnapshotResponse(data, fallback: true) }

    /// Decodes a snapshot page; without the fallback, what the fast reader refuses throws `FastJSONReader.Failure`.
    package static func decodeSnapshotResponse(_ data: Data, fallback: Bool) throws -> Wire.SnapshotResponse {
        try decode(data, as: Wire.SnapshotResponse.self, fallback: fallback) { reader in
            var changes: [Wire.LoggedChange]?, since: Int64?, next: HLC?, total: Int?, serverTime: UInt64?, chain: LogChain?
            var batches: [SignedBatch] = [], unsignedUpTo: Int64?, schemaVersion: Int?
            try reader.readObject { reader, key in
                switch key {
                case "batches": batches = try readBatches(&reader)
                case "schemaVersion": schemaVersion = Int(exactly: try reader.readInt64())
                case "unsignedUpTo": unsignedUpTo = try reader.readNull() ? nil : try reader.readInt64()
                case "changes": changes = try readLoggedChanges(&reader)
                case "since": since = try reader.readInt64()
                case "next": next = try reader.readNull() ? nil : try readHLC(&reader)
                case "total": total = try reader.readNull() ? nil : Int(try reader.readInt64())
                case "serverTime": serverTime = try reader.readUInt64()
                case "chain": chain = try readLogChain(&reader)
                default: try reader.skipValue()
                }
            }
            guard let changes, let since, let serverTime else { throw FastJSONReader.Failure() }
            return Wire.SnapshotResponse(changes: changes, since: since, next: next, total: total, serverTime: serverTime,
                                         batches: batches, unsignedUpTo: unsignedUpTo, chain: chain, schemaVersion: schemaVersion)
        }
    }

    /// Decodes a push answer.
    package static func decodePushResponse(_ data: Data) throws -> Wire.PushResponse { try decodePushResponse(data, fallback: true) }

    /// Decodes a push answer; without the fallback, what the fast reader refuses throws `FastJSONReader.Failure`.
    package static func decodePushResponse(_ data: Data, fallback: Bool) throws -> Wire.PushResponse {
        try decode(data, as: Wire.PushResponse.self, fallback: fallback) { reader in
            var results: [Wire.ChangeResult]?, serverTime: UInt64?
            try reader.readObject { reader, key in
                switch key {
                case "results":
                    var list: [Wire.ChangeResult] = []
                    try reader.readArray { list.append(try readChangeResult(&$0)) }
                    results = list
                case "serverTime": serverTime = try reader.readUInt64()
                default: try reader.skipValue()
                }
            }
            guard let results, let serverTime else { throw FastJSONReader.Failure() }
            return Wire.PushResponse(results: results, serverTime: serverTime)
        }
    }

    private static func readChangeResult(_ reader: inout FastJSONReader) throws -> Wire.ChangeResult {
        var hlc: HLC?, status: Wire.ChangeStatus?, seq: Int64?, conflict: String?, code: String?, reason: String?
        try reader.readObject { reader, key in
            switch key {
            case "hlc": hlc = try readHLC(&reader)
            case "status": status = Wire.ChangeStatus(rawValue: try reader.readString())
            case "seq": seq = try reader.readNull() ? nil : try reader.readInt64()
            case "conflict": conflict = try reader.readNull() ? nil : try reader.readString()
            case "code": code = try reader.readNull() ? nil : try reader.readString()
            case "reason": reason = try reader.readNull() ? nil : try reader.readString()
            default: try reader.skipValue()
            }
        }
        guard let hlc, let status else { throw FastJSONReader.Failure() }
        return Wire.ChangeResult(hlc: hlc, status: status, seq: seq, conflict: conflict, code: code, reason: reason)
    }

    private static func decode<T: Decodable>(_ data: Data, as type: T.Type, fallback: Bool, _ body: (inout FastJSONReader) throws -> T) throws -> T {
        let fast: T? = data.withUnsafeBytes { raw in
            var reader = FastJSONReader(raw.bindMemory(to: UInt8.self))
            guard let value = try? body(&reader), reader.atEnd() else { return nil }
            return value
        }
        if let fast { return fast }
        guard fallback else { throw FastJSONReader.Failure() }
        return try JSONDecoder().decode(T.self, from: data)
    }

    private static func readLogChain(_ reader: inout FastJSONReader) throws -> LogChain {
        guard let value = LogChain(hex: try reader.readString()) else { throw FastJSONReader.Failure() }
        return value
    }

    private static func readPageChain(_ reader: inout FastJSONReader) throws -> Wire.PageChain {
        var after: LogChain?, cursor: LogChain?, withheld: [ChangeDigest] = []
        try reader.readObject { reader, key in
            switch key {
            case "after": after = try readLogChain(&reader)
            case "cursor": cursor = try readLogChain(&reader)
            case "withheld":
                guard let digests = Wire.PageChain.withheld(fromText: try reader.readString()) else { throw FastJSONReader.Failure() }
                withheld = digests
            default: try reader.skipValue()
            }
        }
        guard let after, let cursor else { throw FastJSONReader.Failure() }
        return Wire.PageChain(after: after, cursor: cursor, withheld: withheld)
    }

    private static func readHLC(_ reader: inout FastJSONReader) throws -> HLC {
        guard let hlc = HLC(text: try reader.readString()) else { throw FastJSONReader.Failure() }
        return hlc
    }

    private static func readHLCs(_ reader: inout FastJSONReader) throws -> [HLC] {
        var list: [HLC] = []
        try reader.readArray { list.append(try readHLC(&$0)) }
        return list
    }

    private static func readValue(_ reader: inout FastJSONReader) throws -> FieldValue {
        var type: String?
        var value: FieldValue?
        var raw: (string: String?, integer: Int64?, bool: Bool?, list: [String]?, files: [FileRef]?) = (nil, nil, nil, nil, nil)
        try reader.readObject { reader, key in
            switch key {
            case "type": type = try reader.readString()
            case "value":
                // The type may come after the value: read it by its JSON shape, check below.
                switch try reader.peekByte() {
                case UInt8(ascii: "\""): raw.string = try reader.readString()
                case UInt8(ascii: "["): (raw.list, raw.files) = try readListOrFiles(&reader)
                case UInt8(ascii: "t"), UInt8(ascii: "f"): raw.bool = try reader.readBool()
                default: raw.integer = try reader.readInt64()
                }
            default: try reader.skipValue()
            }
        }
        switch type {
        case "text": value = raw.string.map(FieldValue.text)
        case "integer": value = raw.integer.map(FieldValue.integer)
        case "date":
            guard let string = raw.string, CalendarDate(string) != nil else { throw FastJSONReader.Failure() }
            value = .date(string)
        case "bool": value = raw.bool.map(FieldValue.bool)
        case "list": value = raw.list.map(FieldValue.list)
        case "reference": value = raw.string.map(FieldValue.reference)
        case "references": value = raw.list.map(FieldValue.references)
        case "files": value = raw.files.map(FieldValue.files)
        case "unset": value = .unset
        default: throw FastJSONReader.Failure()
        }
        guard let value else { throw FastJSONReader.Failure() }
        return value
    }

    /// An array of strings (a list's value) or of objects (a files value); an empty one is either,
    /// one that mixes them neither (`JSONDecoder` refuses it as both).
    private static func readListOrFiles(_ reader: inout FastJSONReader) throws -> ([String]?, [FileRef]?) {
        var strings: [String] = [], files: [FileRef] = []
        try reader.readArray { reader in
            if try reader.peekByte() == UInt8(ascii: "{") {
                files.append(try readFileRef(&reader))
            } else {
                strings.append(try reader.readString())
            }
        }
        return (files.isEmpty ? strings : nil, strings.isEmpty ? files : nil)
    }

    /// A `FileRef` as its synthesised `Codable` reads it: four keys, others skipped.
    private static func readFileRef(_ reader: inout FastJSONReader) throws -> FileRef {
        var sha256: String?, name: String?, size: Int64?, mime: String?
        try reader.readObject { reader, key in
            switch key {
            case "sha256": sha256 = try reader.readString()
            case "name": name = try reader.readString()
            case "size": size = try reader.readInt64()
            case "mime": mime = try reader.readString()
            default: try reader.skipValue()
            }
        }
        guard let sha256, let name, let size, let mime else { throw FastJSONReader.Failure() }
        return FileRef(sha256: sha256, name: name, size: size, mime: mime)
    }

    private static func readChange(_ reader: inout FastJSONReader) throws -> Change {
        var collection: String?, record: String?, field: String?, value: FieldValue?, hlc: HLC?
        var author = "", base: HLC?, supersedes: [HLC] = [], covers: [HLC] = []
        try reader.readObject { reader, key in
            switch key {
            case "collection": collection = try reader.readString()
            case "record": record = try reader.readString()
            case "field": field = try reader.readString()
            case "value": value = try readValue(&reader)
            case "hlc": hlc = try readHLC(&reader)
            case "author": author = try reader.readNull() ? "" : try reader.readString()
            case "base": base = try reader.readNull() ? nil : try readHLC(&reader)
            case "supersedes": supersedes = try reader.readNull() ? [] : try readHLCs(&reader)
            case "covers": covers = try reader.readNull() ? [] : try readHLCs(&reader)
            default: try reader.skipValue()
            }
        }
        guard let collection, let record, let field, let value, let hlc else { throw FastJSONReader.Failure() }
        return Change(collection: collection, record: record, field: field, value: value, hlc: hlc, author: author,
                      base: base, supersedes: supersedes, covers: covers)
    }

    private static func readBatches(_ reader: inout FastJSONReader) throws -> [SignedBatch] {
        var list: [SignedBatch] = []
        try reader.readArray { reader in
            var id: String?, node: NodeID?, digests: [ChangeDigest]?, signature: Data?
            try reader.readObject { reader, key in
                switch key {
                case "id": id = try reader.readString()
                case "node": node = NodeID(try reader.readString())
                case "digests": digests = SignedBatch.digests(packed: try reader.readString())
                case "signature": signature = Data(base64Encoded: try reader.readString())
                default: try reader.skipValue()
                }
            }
            guard let id, let node, let digests, let signature else { throw FastJSONReader.Failure() }
            list.append(SignedBatch(id: id, node: node, digests: digests, signature: Array(signature)))
        }
        return list
    }

    private static func readLoggedChanges(_ reader: inout FastJSONReader) throws -> [Wire.LoggedChange] {
        var list: [Wire.LoggedChange] = []
        try reader.readArray { reader in
            var seq: Int64?, change: Change?, receivedAt: UInt64?
            try reader.readObject { reader, key in
                switch key {
                case "seq": seq = try reader.readInt64()
                case "change": change = try readChange(&reader)
                case "receivedAt": receivedAt = try reader.readUInt64()
                default: try reader.skipValue()
                }
            }
            guard let seq, let change, let receivedAt else { throw FastJSONReader.Failure() }
            list.append(Wire.LoggedChange(seq: seq, change: change, receivedAt: receivedAt))
        }
        return list
    }
}
