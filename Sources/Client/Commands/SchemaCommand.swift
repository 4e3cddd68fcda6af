import ArgumentParser
import Foundation
import Shared

extension Casebook {
    /// `casebook schema`: the schema this replica has, as people read it or as JSON.
    struct SchemaCommand: ReplicaCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema",
            abstract: "Print the project's schema as this replica has it: collections, fields, types, vocabularies.",
            discussion: "A newer version reaches the replica at its next sync. Retired fields and terms are listed as such: they keep their values but take no new ones.")

        @Flag(help: "Print the schema itself, as JSON.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let schema = settings.schema
            if json { return Output.line(String(decoding: try schema.jsonData(), as: UTF8.self)) }
            for line in Self.lines(schema) { Output.line(line) }
        }

        /// The schema in words, a line each.
        static func lines(_ schema: Shared.Schema) -> [String] {
            var lines = ["schema \(schema.name) version \(schema.version)"]
            for collection in schema.collections {
                lines.append("")
                lines.append("\(collection.name) (named by \(collection.titleField))")
                for field in collection.fields {
                    var kind = field.type.rawValue
                    if let vocabulary = field.vocabulary { kind += " of \(vocabulary)" }
                    if let target = field.collection { kind += " → \(target)" }
                    var notes: [String] = []
                    if field.required { notes.append("required") }
                    if field.deprecated { notes.append("retired") }
                    let group = collection.group(of: field.name).map { "group \($0.name)" }
                    lines.append("  \(field.name): \(kind)" + ((notes + [group].compactMap { $0 }).map { " (\($0))" }.joined()))
                }
            }
            for vocabulary in schema.vocabularies {
                lines.append("")
                lines.append("vocabulary \(vocabulary.name)")
                for term in vocabulary.terms {
                    lines.append("  \(term.id): \(term.label)" + (term.deprecated ? " (retired)" : ""))
                }
            }
            return lines
        }
    }
}
