import Foundation
import GRDB
import Shared

/// Imports a file (CSV in any encoding a spreadsheet saves, XLSX, or OHCHR's thematic list as DOCX) into a
/// collection, in one transaction: all rows or none. Rows are read and checked first, then written; into the
/// report's recommendations a row is matched to the record it updates by review and paragraph number, so
/// importing a file again updates instead of duplicating, and rows repeated once per recommending state
/// ("dyadic" datasets) merge into one record.
struct CSVImporter {
    let settings: ReplicaSettings
    let collection: String
    let path: String
    let skipInvalid: Bool
    let progress: ProgressLine
    /// `--encoding`: nil to detect it.
    var encoding: TextEncoding?
    /// `--review`: the review (id or prefix) every row is linked to.
    var review: String?
    /// `--create-review`: create the review a file names when the replica has none of that state and cycle.
    var createReview = false
    /// `--map FIELD:VALUE=TERM`, by field, keyed by the value's folded form.
    var maps: [String: [String: String]] = [:]
    /// The groups every record the import adds is restricted to (empty: the whole team's).
    var access: [String] = []
    /// How many rows are made ready on another core while the database stores the ones before (`write`).
    var chunkSize = 256

    struct Problem {
        var line: Int
        /// The column of a cell left out (`--skip-invalid`); nil for a whole row.
        var column: String?
        var message: String

        init(line: Int, column: String? = nil, message: String) {
            self.line = line
            self.column = column
            self.message = message
        }
    }

    struct Result {
        var imported = 0
        var updated = 0
        var unchanged = 0
        /// Rows left out.
        var skipped: [Problem] = []
        /// Cells left out of rows that were imported (`--skip-invalid`).
        var dropped: [Problem] = []
        /// Values no term matched, by field, with how often each occurred.
        var unknown: [String: [String: Int]] = [:]
        /// Items of list cells that no vocabulary knows, kept as written (themes in `un_themes`), by field.
        var unlisted: [String: [String: Int]] = [:]
        var ignoredColumns: [String] = []
        var notices: [String] = []
    }

    func run(_ replica: Replica) async throws -> Result {
        // Columns match fields by name or alias, terms by id, label or alias, as the built-in schema gives them
        // to a project created before it did.
        let schema = settings.schema.backfilled(from: .upr).withTermAliases(from: .upr)
        let collectionSchema = try schema.requireCollection(collection)
        let keyed = schema.report?.recommendations == collection && collectionSchema.field("paragraph") != nil
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        let result = try await replica.edit(settings: settings) { editor in
            var cells = CellReader(schema: schema, collection: collectionSchema, maps: maps)
            var source = try ImportSource(path: path, encoding: encoding)
            let header = try readHeader(&source)
            let mapping = try columns(header.cells, collectionSchema, reviewColumns: keyed)
            var result = Result(ignoredColumns: mapping.ignored, notices: source.notice.map { [$0] } ?? [])
            var links = try ReviewLinks(importer: self, schema: schema, keyed: keyed, file: source.identity, header: header.cells, editor: &editor)
            var batch = ImportBatch(keyed: keyed, review: links.review)
            var rows = 0
            while let record = try nextRecord(&source) {
                if record.cells.allSatisfy({ $0.trimmed.isEmpty }) { continue }  // a blank line
                do {
                    guard record.cells.count == header.cells.count else {
                        throw ClientError("it has \(record.cells.count) columns but the header has \(header.cells.count)")
                    }
                    var values = try rowValues(record, header: header.cells, mapping: mapping, cells: &cells, editor: editor, result: &result)
                    if keyed { UNRecommendation.takeApart(&values, cells: cells) }
                    cells.derive(&values)
                    try links.link(&values, record: record, collection: collectionSchema, editor: &editor)
                    batch.add(values, id: try recordID(record, mapping), line: record.line)
                } catch {
                    try skipOrThrow(error, line: record.line, result: &result)
                }
                rows += 1
                if rows % 500 == 0 {
                    progress.update("reading \(collection)", done: source.bytesRead / 1024, total: size.map { $0 / 1024 })
                }
            }
            try links.finish()
            try write(batch, editor: &editor, result: &result)
            result.notices += links.notices()
            if keyed, let repeats = try RecurrenceLinker.link(schema: schema, editor: &editor), repeats > 0 {
                result.notices.append(RecurrenceLinker.notice(repeats))
            }
            return result
        }
        progress.finish()
        return result
    }

    private func readHeader(_ source: inout ImportSource) throws -> CSVReader.Record {
        guard let first = try nextRecord(&source) else {
            throw ClientError("'\(path)' is empty: it needs a header row naming the fields")
        }
        return first
    }

    private func nextRecord(_ source: inout ImportSource) throws -> CSVReader.Record? {
        do {
            return try source.nextRecord()
        } catch let error as CSVReader.Malformed {
            throw ClientError("line \(error.line) of \(path): \(error.message); nothing was imported")
        }
    }

    /// Leaves out a row with `--skip-invalid`; otherwise stops the import, naming the line.
    private func skipOrThrow(_ error: Error, line: Int, result: inout Result) throws {
        let message = (error as? ClientError)?.message ?? (error as? SchemaError)?.message ?? (error as? CellReader.Refusal)?.message ?? "\(error)"
        guard skipInvalid else {
            throw ClientError("line \(line) of \(path): \(message); nothing was imported (fix the row, or use --skip-invalid)")
        }
        result.skipped.append(Problem(line: line, message: message))
    }

    /// The values of a row's cells. With `--skip-invalid` a cell the schema refuses is left out (and noted with
    /// its line and column) rather than the whole row.
    private func rowValues(_ record: CSVReader.Record, header: [String], mapping: Mapping, cells: inout CellReader,
                           editor: LocalEditor, result: inout Result) throws -> [String: FieldValue] {
        var values: [String: FieldValue] = [:]
        for (column, field) in mapping.fields {
            // A cell neutralised against formula injection by `export` reads as its value.
            let text = CSVWriter.unneutralised(record.cells[column]).trimmed
            guard !text.isEmpty else { continue }
            do {
                let read = try cells.value(text, field: field, editor: editor)
                if read.value != .list([]) { values[field.name] = read.value }
                for item in read.unlisted { result.unlisted[field.name, default: [:]][item, default: 0] += 1 }
                if let spill = read.spill {
                    var had: [String] = []
                    if case .list(let items)? = values[spill.field] { had = items }
                    values[spill.field] = .list(CellReader.unique(had + spill.items))
                }
            } catch {
                let refusal = error as? CellReader.Refusal
                for value in refusal?.unknown ?? [] { result.unknown[field.name, default: [:]][value, default: 0] += 1 }
                guard skipInvalid else { throw error }
                let message = refusal?.message ?? (error as? SchemaError)?.message ?? (error as? ClientError)?.message ?? "\(error)"
                result.dropped.append(Problem(line: record.line, column: header[column], message: message))
            }
        }
        return values
    }

    private func recordID(_ record: CSVReader.Record, _ mapping: Mapping) throws -> String? {
        guard let column = mapping.idColumn else { return nil }
        let id = record.cells[column].trimmed.lowercased()
        guard !id.isEmpty else { return nil }
        guard RecordID.isValid(id) else { throw ClientError("the id '\(id.prefix(40))' is not a record id (32 characters 0-9a-f)") }
        return id
    }

    struct Mapping {
        var fields: [(column: Int, field: FieldSchema)]
        var idColumn: Int?
        var ignored: [String]
    }

    private func columns(_ header: [String], _ schema: CollectionSchema, reviewColumns: Bool) throws -> Mapping {
        var mapping = Mapping(fields: [], idColumn: nil, ignored: [])
        var taken: [String: String] = [:]
        for (index, raw) in header.enumerated() {
            if Schema.matchingKey(raw) == "id" {
                mapping.idColumn = index
                continue
            }
            guard let field = schema.field(forColumn: raw) else {
                // The state under review and the session name the row's review, not a field.
                if !(reviewColumns && ReviewLinks.Columns.names(raw)) { mapping.ignored.append(raw) }
                continue
            }
            if let other = taken[field.name] {
                throw ClientError("columns '\(other)' and '\(raw)' both mean field '\(field.name)': keep one")
            }
            taken[field.name] = raw
            mapping.fields.append((index, field))
        }
        guard !mapping.fields.isEmpty else {
            throw ClientError("no column of the header names a field of \(schema.name) (\(schema.fields.map(\.name).joined(separator: ", ")))")
        }
        return mapping
    }
}
