import ArgumentParser
import Foundation
import Shared

extension CasebookServer.ProjectCommand {
    struct SchemaVersion: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema",
            abstract: "Replace a project's schema with a new version (works while serve runs).",
            discussion: """
                The new version must raise "version" and keep every stored value valid: add collections, fields, \
                vocabularies and terms, change labels, descriptions and aliases, retire a field or term with \
                "deprecated": true. A type change, a removed field or term still in use, or a field made required \
                while records lack it is refused, naming each problem; nothing changes then. Replicas pick up the \
                new version at their next sync.
                """)

        @Argument(help: "The project.")
        var name: String

        @Argument(help: ArgumentHelp("The new schema: a JSON or YAML file of the same shape as project create takes.", valueName: "FILE"))
        var file: String

        @Flag(name: .customLong("dry-run"), help: "Say what would change and how many records each change touches; change nothing.")
        var dryRun = false

        @Flag(help: "Print the outcome as JSON.")
        var json = false

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let schema = try SchemaFile.load(file)
            let (name, dryRun) = (name, dryRun)
            let replacement = try await store.withStore { try await $0.replaceSchema(project: name, with: schema, dryRun: dryRun) }
            if json { print(try Self.json(replacement)) }
            guard replacement.acceptable else {
                throw CommandError("the schema of \(name) stays at version \(replacement.old.version), nothing changed: "
                                   + replacement.refusals.map { "\n  - \($0)" }.joined())
            }
            if !json { Self.describe(replacement, project: name, dryRun: dryRun) }
        }

        static func describe(_ replacement: SchemaReplacement, project: String, dryRun: Bool) {
            let (old, new) = (replacement.old.version, replacement.new.version)
            let verb = replacement.applied ? "now serves" : "would serve"
            print("\(project) \(verb) schema \(replacement.new.name) version \(new) (was \(old))")
            for (step, records) in replacement.touched {
                print("  \(step)" + (records.map { " (\($0) record(s))" } ?? ""))
            }
            if replacement.touched.isEmpty { print("  nothing else differs") }
            if dryRun { print("dry run: nothing changed; run it again without --dry-run to apply it") }
        }

        static func json(_ replacement: SchemaReplacement) throws -> String {
            struct Step: Encodable { var change: String; var records: Int? }
            struct Outcome: Encodable {
                var applied: Bool
                var from: Int
                var to: Int
                var changes: [Step]
                var problems: [String]
            }
            let outcome = Outcome(applied: replacement.applied, from: replacement.old.version, to: replacement.new.version,
                                  changes: replacement.touched.map { Step(change: $0.step.description, records: $0.records) },
                                  problems: replacement.refusals)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(outcome), as: UTF8.self)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the projects: schema version, records, members.")

        @Flag(help: "Print {\"projects\": [...]} instead of text.")
        var json = false

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let projects = try await store.withStore { try await $0.projectSummaries(name: nil) }
            if json { return print(try Show.json(["projects": projects])) }
            if projects.isEmpty { print("no projects yet: create one with 'casebook-server project create NAME'") }
            for project in projects {
                let records = project.records.values.reduce(0, +)
                print("\(project.name)  schema \(project.schema) v\(project.schemaVersion)  \(records) record(s)  \(project.members.count) member(s)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a project: its schema version, records by collection, members, roles and groups.")

        @Argument(help: "The project.")
        var name: String

        @Flag(help: "Print the project as JSON.")
        var json = false

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let name = name
            guard let project = try await store.withStore({ try await $0.projectSummaries(name: name) }).first else { return }
            if json { return print(try Self.json(project)) }
            print("project \(project.name): schema \(project.schema) version \(project.schemaVersion)")
            print("records:")
            if project.records.isEmpty { print("  none yet") }
            for (collection, count) in project.records.sorted(by: { $0.key < $1.key }) { print("  \(collection): \(count)") }
            print("members:")
            for member in project.members { print("  \(member.name) (\(member.role))" + (member.revoked ? ", revoked" : "")) }
            if !project.groups.isEmpty {
                print("groups:")
                for group in project.groups { print("  \(group.name): \(group.members.joined(separator: ", "))") }
            }
        }

        static func json(_ value: some Encodable) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        }
    }
}
