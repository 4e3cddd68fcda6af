import Foundation

/// Writing the hot-path wire types: the JSON their `Codable` conformances describe.
extension WireCodec {
    /// Encodes a push body.
    package static func encode(_ request: Wire.PushRequest) -> Data {
        var writer = FastJSONWriter(capacity: request.changes.count * 256)
        writer.raw("{\"changes\":[")
        for (index, change) in request.changes.enumerated() {
            if index > 0 { writer.raw(",") }
            write(change, &writer)
        }
        writer.raw("]")
        if !request.batches.isEmpty {
            writer.key("batches")
            write(request.batches, &writer)
        }
        if let schemaVersion = request.schemaVersion {
            writer.key("schemaVersion")
            writer.integer(Int64(schemaVersion))
        }
        writer.raw("}")
        return Data(writer.bytes)
    }

    /// Encodes a push answer.
    package static func encode(_ response: Wire.PushResponse) -> Data {
        var writer = FastJSONWriter(capacity: response.results.count * 80 + 64)
        writer.raw("{")
        writer.key("results", first: true)
        writer.raw("[")
        for (index, result) in response.results.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{")
            writer.key("hlc", first: true)
            writer.hlc(result.hlc)
            writer.key("status")
            writer.string(result.status.rawValue)
            if let seq = result.seq {
                writer.key("seq")
                writer.integer(seq)
            }
            for (name, value) in [("conflict", result.conflict), ("code", result.code), ("reason", result.reason)] {
                guard let value else { continue }
                writer.raw(",")
                writer.string(name)
                writer.raw(":")
                writer.string(value)
            }
            writer.raw("}")
        }
        writer.raw("]")
        writer.key("serverTime")
        writer.integer(response.serverTime)
        writer.raw("}")
        return Data(writer.bytes)
    }

    /// Encodes a pull page.
    package static func encode(_ response: Wire.PullResponse) -> Data {
        var writer = FastJSONWriter(capacity: response.changes.count * 300 + 256)
        writer.raw("{")
        writer.key("changes", first: true)
        write(response.changes, &writer)
        // Always empty: clients before this version require the key (see Wire+PullResponse.swift).
        writer.key("conflicts")
        writer.raw("[]")
        writer.key("cursor")
        writer.integer(response.cursor)
        writer.key("more")
        writer.bool(response.more)
        writer.key("latest")
        writer.integer(response.latest)
        writer.key("serverTime")
        writer.integer(response.serverTime)
        if let custodySeq = response.custodySeq {
            writer.key("custodySeq")
            writer.integer(custodySeq)
        }
        if let schemaVersion = response.schemaVersion {
            writer.key("schemaVersion")
            writer.integer(Int64(schemaVersion))
        }
        writeSignatures(response.batches, response.unsignedUpTo, &writer)
        if let chain = response.chain {
            writer.key("chain")
            writer.raw("{")
            writer.key("after", first: true)
            writer.string(chain.after.hex)
            writer.key("cursor")
            writer.string(chain.cursor.hex)
            if !chain.withheld.isEmpty {
                writer.key("withheld")
                writer.string(chain.withheldText)
            }
            writer.raw("}")
        }
        if let removed = response.removed {
            writer.key("removed")
            writer.stringArray(removed)
        }
        if let granted = response.granted {
            writer.key("granted")
            writer.stringArray(granted)
        }
        writer.raw("}")
        return Data(writer.bytes)
    }

    /// Encodes a snapshot page.
    package static func encode(_ response: Wire.SnapshotResponse) -> Data {
        var writer = FastJSONWriter(capacity: response.changes.count * 300 + 256)
        writer.raw("{")
        writer.key("changes", first: true)
        write(response.changes, &writer)
        writer.key("since")
        writer.integer(response.since)
        if let next = response.next {
            writer.key("next")
            writer.hlc(next)
        }
        if let total = response.total {
            writer.key("total")
            writer.integer(total)
        }
        writer.key("serverTime")
        writer.integer(response.serverTime)
        writeSignatures(response.batches, response.unsignedUpTo, &writer)
        if let chain = response.chain {
            writer.key("chain")
            writer.string(chain.hex)
        }
        if let schemaVersion = response.schemaVersion {
            writer.key("schemaVersion")
            writer.integer(Int64(schemaVersion))
        }
        writer.raw("}")
        return Data(writer.bytes)
    }

    // Both keys are left out when there is nothing to say (an empty page of an old project, a server before signatures).
    private static func writeSignatures(_ batches: [SignedBatch], _ unsignedUpTo: Int64?, _ writer: inout FastJSONWriter) {
        if !batches.isEmpty {
            writer.key("batches")
            write(batches, &writer)
        }
        if let unsignedUpTo {
            writer.key("unsignedUpTo")
            writer.integer(unsignedUpTo)
        }
    }

    private static func write(_ batches: [SignedBatch], _ writer: inout FastJSONWriter) {
        writer.raw("[")
        for (index, batch) in batches.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"id\":"); writer.string(batch.id)
            writer.raw(",\"node\":"); writer.string(batch.node.rawValue)
            writer.raw(",\"digests\":"); writer.string(batch.packedDigests)
            writer.raw(",\"signature\":"); writer.string(Data(batch.signature).base64EncodedString())
            writer.raw("}")
        }
        writer.raw("]")
    }

    private static func write(_ changes: [Wire.LoggedChange], _ writer: inout FastJSONWriter) {
        writer.raw("[")
        for (index, logged) in changes.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{")
            writer.key("seq", first: true)
            writer.integer(logged.seq)
            writer.key("receivedAt")
            writer.integer(logged.receivedAt)
            writer.key("change")
            write(logged.change, &writer)
            writer.raw("}")
        }
        writer.raw("]")
    }

    private static func write(_ change: Change, _ writer: inout FastJSONWriter) {
        writer.raw("{")
        writer.key("collection", first: true)
        writer.string(change.collection)
        writer.key("record")
        writer.string(change.record)
        writer.key("field")
        writer.string(change.field)
        writer.key("value")
        write(change.value, &writer)
        writer.key("hlc")
        writer.hlc(change.hlc)
        writer.key("author")
        writer.string(change.author)
        if let base = change.base {
            writer.key("base")
            writer.hlc(base)
        }
        if !change.supersedes.isEmpty {
            writer.key("supersedes")
            writer.hlcArray(change.supersedes)
        }
        if !change.covers.isEmpty {
            writer.key("covers")
            writer.hlcArray(change.covers)
        }
        writer.raw("}")
    }

    private static func write(_ value: FieldValue, _ writer: inout FastJSONWriter) {
        writer.raw("{\"type\":")
        switch value {
        case .text(let s): writer.raw("\"text\",\"value\":"); writer.string(s)
        case .integer(let n): writer.raw("\"integer\",\"value\":"); writer.integer(n)
        case .date(let s): writer.raw("\"date\",\"value\":"); writer.string(s)
        case .bool(let b): writer.raw("\"bool\",\"value\":"); writer.bool(b)
        case .list(let items): writer.raw("\"list\",\"value\":"); writer.stringArray(items)
        case .reference(let s): writer.raw("\"reference\",\"value\":"); writer.string(s)
        case .references(let items): writer.raw("\"references\",\"value\":"); writer.stringArray(items)
        case .files(let files): writer.raw("\"files\",\"value\":"); write(files, &writer)
        case .unset: writer.raw("\"unset\"")
        }
        writer.raw("}")
    }

    private static func write(_ files: [FileRef], _ writer: inout FastJSONWriter) {
        writer.raw("[")
        for (index, file) in files.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"sha256\":"); writer.string(file.sha256)
            writer.raw(",\"name\":"); writer.string(file.name)
            writer.raw(",\"size\":"); writer.integer(file.size)
            writer.raw(",\"mime\":"); writer.string(file.mime)
            writer.raw("}")
        }
        writer.raw("]")
    }
}
