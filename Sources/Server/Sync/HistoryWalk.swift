import Foundation
import Shared

/// The versions the merge of one field's heads reads, gathered as a store loads what it asks for:
/// what `/history` answers. The store loops: `next()` names the versions to load, `loaded` takes
/// them, until `next()` is nil; `changes` are then the versions read.
struct HistoryWalk {
    let key: FieldKey
    let heads: [HLC]
    let schema: Schema
    private var graph = VersionGraph()
    private var rows: [HLC: Wire.LoggedChange] = [:]
    private var read: Set<HLC> = []

    init(_ field: Wire.HistoryRequest.Field, schema: Schema) {
        key = FieldKey(record: field.record, field: field.field)
        heads = Array(Set(field.heads))
        self.schema = schema
    }

    /// The versions to load next, nil when the walk is done.
    mutating func next() -> Set<HLC>? {
        let unknown = Set(heads.filter { !graph.knows($0) })
        if !unknown.isEmpty { return unknown }
        // The heads' collection gives the hook; heads of no field with one need nothing more.
        let rows = self.rows
        guard let collection = heads.compactMap({ rows[$0]?.change.collection }).first,
              let hook = FieldRules(schema, collection: collection).hook(for: key.field) else {
            read = Set(heads.filter { rows[$0] != nil })
            return nil
        }
        var merge = FieldMerge(hook: hook)
        if case .needs(let hlcs) = merge.merge(heads, graph: graph) { return hlcs }
        read = merge.read
        return nil
    }

    /// Takes the rows a store found for `asked` (rows of other fields do not count).
    mutating func loaded(_ asked: Set<HLC>, found: [Wire.LoggedChange]) {
        let mine = found.filter { $0.change.record == key.record && $0.change.field == key.field && asked.contains($0.change.hlc) }
        for row in mine { rows[row.change.hlc] = row }
        graph.loaded(asked, found: mine.map(\.change))
    }

    /// The versions read, ordered by HLC.
    var changes: [Wire.LoggedChange] {
        read.compactMap { rows[$0] }.sorted { $0.change.hlc < $1.change.hlc }
    }
}

extension HistoryWalk {
    /// The answer to a history request from the walks done so far: every field's versions until
    /// the one that fills `maxBytes` (at least one field).
    static func response(_ walks: [HistoryWalk], maxBytes: Int) -> Wire.HistoryResponse {
        var changes: [Wire.LoggedChange] = []
        var seen = Set<HLC>()
        var bytes = 0
        var answered = 0
        for walk in walks {
            for row in walk.changes where seen.insert(row.change.hlc).inserted {
                changes.append(row)
                bytes += PageCutter.estimatedSize(row)
            }
            answered += 1
            if bytes >= maxBytes { break }
        }
        return Wire.HistoryResponse(changes: changes.sorted { $0.change.hlc < $1.change.hlc }, answered: answered, serverTime: 0)
    }
}
