import ArgumentParser
import Foundation
import GRDB
import Shared

extension Casebook {
    struct Import: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import records from a CSV or XLSX file with a header row, or OHCHR's thematic list (DOCX).",
            discussion: """
                Columns are matched to fields by name or by an alias the project's schema
                gives, ignoring case and reading '_' and '-' as spaces. Vocabulary cells
                match a term by id, label or alias ('Accepted' is supported, 'Türkiye' and
                'Turkey' one state), ignoring case and diacritics. An 'id' column updates
                existing records (as 'casebook export' writes it). Every row is checked
                first: a bad row stops the whole import, with its line number, unless
                --skip-invalid is given.

                CSV may be UTF-8 (with or without a byte order mark), UTF-16 with one,
                Windows-1252 or Mac Roman, with any line ends: the encoding is found
                from the bytes (with a notice when it is not UTF-8), or given with
                --encoding. XLSX: the first sheet. DOCX: the thematic list of
                recommendations OHCHR publishes for every review.

                Into recommendations, what the UN writes is taken apart:
                '140.7 Ratify ... (Maldives) (Portugal);' gives the paragraph, the text and
                the recommending states, and 'Source of Position: ...' its own field. A
                recommendation's natural key is its review and paragraph number: importing
                the same rows again updates them, and rows repeated once per state merge.
                A row without a paragraph number is keyed by its review and its text.

                Each recommendation is linked to its review: the one --review names, or
                the one the file names (a thematic list's header, 'UPR of Slovenia (4th
                Cycle - 48th Session)'; or columns such as 'State under review', 'Cycle'
                and 'Session'), found by state and cycle, or created with
                --create-review. A recommendation made again from an earlier cycle (same
                recommending state, texts alike) is linked to it in 'repeats'.


                """ + aliasList(Schema.upr) + "\n\n" + termAliasList(Schema.upr, vocabularies: ["response", "implementation_status"]))

        /// The words the default schema accepts for the terms of `vocabularies` (its states and themes are too many
        /// to list: see the schema), wrapped like `aliasList`.
        static func termAliasList(_ schema: Schema, vocabularies: [String]) -> String {
            var lines = ["Words read as terms by the default \(schema.name) schema, besides ids and labels:"]
            for vocabulary in vocabularies.compactMap(schema.vocabulary) {
                lines.append("  \(vocabulary.name)")
                for term in vocabulary.terms where !term.aliases.isEmpty {
                    var line = "    \(term.id):"
                    for (index, alias) in term.aliases.enumerated() {
                        let item = " \(alias)" + (index == term.aliases.count - 1 ? "" : ",")
                        if line.count + item.count > 78 {
                            lines.append(line)
                            line = "     "
                        }
                        line += item
                    }
                    lines.append(line)
                }
            }
            return lines.joined(separator: "\n")
        }

        /// The column aliases `schema` gives, by collection and field, for the help (which cannot read a
        /// replica's schema). Wrapped here, so that lines keep their indent in an 80-column terminal.
        static func aliasList(_ schema: Schema) -> String {
            var lines: [String] = []
            for collection in schema.collections where collection.fields.contains(where: { !$0.aliases.isEmpty }) {
                lines.append("  \(collection.name)")
                for field in collection.fields where !field.aliases.isEmpty {
                    var line = "    \(field.name):"
                    for (index, alias) in field.aliases.enumerated() {
                        let item = " \(alias)" + (index == field.aliases.count - 1 ? "" : ",")
                        if line.count + item.count > 78 {
                            lines.append(line)
                            line = "     "
                        }
                        line += item
                    }
                    lines.append(line)
                }
            }
            guard !lines.isEmpty else { return "The \(schema.name) schema gives no column aliases." }
            return (["Column aliases of the default \(schema.name) schema (a project's own may differ):"] + lines)
                .joined(separator: "\n")
        }

        @Argument(help: "The collection to import into.")
        var collection: String

        @Argument(help: "The file: CSV, XLSX, or OHCHR's thematic list of recommendations (DOCX).")
        var file: String

        @Option(help: "The review (id or prefix) every row belongs to: its key for re-imports.")
        var review: String?

        @Flag(name: .customLong("create-review"), help: "Create the review the file names (state and cycle or session) when the project has none.")
        var createReview = false

        @Option(help: ArgumentHelp("The CSV file's encoding, when detecting it is not enough.",
                                   discussion: "One of \(TextEncoding.allCases.map(\.rawValue).joined(separator: ", ")).",
                                   valueName: "encoding"))
        var encoding: String?

        @Option(name: .customLong("map"), help: ArgumentHelp("Read a value as a term, e.g. response:consider=pending (repeatable).",
                                                             valueName: "field:value=term"))
        var maps: [String] = []

        @Flag(name: .customLong("skip-invalid"), help: "Import what is valid: leave out the cells (or rows) the schema refuses, and list them.")
        var skipInvalid = false

        @Option(help: ArgumentHelp("Restrict the records the import adds to these groups (records it updates keep their access).",
                                   valueName: "GROUP[,GROUP]"))
        var access: String?

        @Flag(help: "Print {\"imported\": N, \"updated\": N, \"unchanged\": N, \"skipped\": N}.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            var importer = CSVImporter(settings: settings, collection: collection, path: file, skipInvalid: skipInvalid, progress: ProgressLine())
            importer.encoding = try encoding.map(TextEncoding.init(named:))
            importer.review = review
            importer.createReview = createReview
            importer.maps = try Self.parseMaps(maps)
            importer.access = access.map(Restrict.groups) ?? []
            if let access, importer.access.isEmpty || !importer.access.allSatisfy(AccessRule.isValidGroupName) {
                throw ValidationError("--access takes group names (\(AccessRule.groupNameRule)), comma-separated, not '\(access.prefix(80))'")
            }
            let result = try await importer.run(replica)
            for notice in result.notices { Output.note(notice) }
            for problem in result.skipped { Output.note("skipped line \(problem.line): \(problem.message)") }
            for (field, values) in result.unlisted.sorted(by: { $0.key < $1.key }) {
                let listed = values.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "'\($0.key)' (\($0.value))" }
                Output.note("values of \(field) that no list of the schema has, kept as written in un_\(field): \(listed.joined(separator: ", "))")
            }
            for problem in result.dropped { Output.note("left out line \(problem.line), column '\(problem.column ?? "")': \(problem.message)") }
            for (field, values) in result.unknown.sorted(by: { $0.key < $1.key }) {
                let listed = values.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "'\($0.key)' (\($0.value))" }
                Output.note("unknown values of \(field): \(listed.joined(separator: ", ")); map each once with --map \(field):VALUE=TERM")
            }
            for column in result.ignoredColumns { Output.note("ignored column '\(column)': the collection has no such field") }
            if json {
                try Output.json(["imported": result.imported, "updated": result.updated, "unchanged": result.unchanged,
                                 "skipped": result.skipped.count])
            } else {
                var parts = ["imported \(result.imported) record\(result.imported == 1 ? "" : "s") into \(collection)"]
                if result.updated > 0 { parts.append("updated \(result.updated)") }
                if result.unchanged > 0 { parts.append("\(result.unchanged) unchanged") }
                if !result.skipped.isEmpty { parts.append("skipped \(result.skipped.count) invalid row\(result.skipped.count == 1 ? "" : "s")") }
                Output.line(parts.joined(separator: ", "))
            }
        }

        /// `FIELD:VALUE=TERM` options, by field, keyed by the value's folded form.
        static func parseMaps(_ options: [String]) throws -> [String: [String: String]] {
            var maps: [String: [String: String]] = [:]
            for option in options {
                guard let colon = option.firstIndex(of: ":"), let equals = option[colon...].firstIndex(of: "="),
                      colon > option.startIndex, option.index(after: colon) < equals, option.index(after: equals) < option.endIndex else {
                    throw ValidationError("--map \(option): write FIELD:VALUE=TERM, e.g. response:consider=pending")
                }
                let field = String(option[..<colon]), value = String(option[option.index(after: colon)..<equals])
                maps[field, default: [:]][Schema.foldedKey(value)] = String(option[option.index(after: equals)...])
            }
            return maps
        }
    }
}
