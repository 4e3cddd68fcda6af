import ArgumentParser
import Foundation
import Shared

extension CasebookServer.ProjectCommand {
    struct Quota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or set how much space a project's evidence files may take.",
            discussion: """
                Without SIZE, shows the quota and what the project's files take. Complete files and uploads
                in progress count at their full size; an upload that would go over is refused on its first
                chunk (HTTP 507, quota_exceeded), so lowering a quota never removes anything. The default is
                100 GiB. Files no record uses any more are removed with 'casebook-server files purge'.
                  casebook-server project quota kazakhstan 500G
                  casebook-server project quota kazakhstan default
                """)

        @Argument(help: "The project's name.")
        var name: String

        @Argument(help: ArgumentHelp("The new quota: bytes, or a number with K, M, G or T (powers of 1024), or 'default'.", valueName: "SIZE"))
        var size: String?

        @Flag(help: "Print {\"quota\", \"used\", \"files\", \"isDefault\"}.")
        var json = false

        @OptionGroup var store: StoreOptions

        func validate() throws {
            guard ProjectName.isValid(name) else { throw ValidationError("project name '\(name)' is not valid: use \(ProjectName.rule)") }
            if let size, size != "default", FileUsage.parseSize(size) == nil {
                throw ValidationError("'\(size)' is not a size: give bytes or a number with K, M, G or T (e.g. 500G), or 'default'")
            }
        }

        func run() async throws {
            let (name, size) = (self.name, self.size)
            let usage = try await store.withStore { store in
                if let size { try await store.setFileQuota(project: name, bytes: size == "default" ? nil : FileUsage.parseSize(size)) }
                return try await store.fileUsage(project: name)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(usage), as: UTF8.self))
                return
            }
            let quota = FileUsage.describe(usage.quota) + (usage.isDefault ? " (the default)" : "")
            print("project \(name): files may take \(quota); \(usage.files) file(s) take \(FileUsage.describe(usage.used))")
            if usage.used > usage.quota { print("it is over its quota: new files are refused until files are purged or the quota is raised") }
        }
    }
}
