import ArgumentParser
import Foundation

extension CasebookServer {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the embedded store to a file, safely, while the server runs (an online backup).",
            discussion: """
                The copy is one consistent SQLite database; the evidence files it lists go to the folder FILE.files
                beside it (hard links on the same disk, else copies). Restore by stopping the server and putting FILE
                in place of DIR/casebook.sqlite and FILE.files in place of DIR/files (see docs/deployment.md).
                A PostgreSQL store, files included, is backed up with pg_dump.
                """)

        @Argument(help: ArgumentHelp("The file to write; it must not exist yet.", valueName: "FILE"))
        var destination: String

        @OptionGroup var store: StoreOptions

        func run() async throws {
            guard store.postgresURL == nil else {
                throw CommandError("back up a PostgreSQL store with pg_dump (pg_dump -Fc -f casebook.dump DATABASE_URL): see docs/deployment.md")
            }
            let target = URL(fileURLWithPath: destination)
            for path in [target.path, SQLiteSyncStore.backupFilesFolder(target).path] where FileManager.default.fileExists(atPath: path) {
                throw CommandError("\(path) already exists: give a new file name (a backup never overwrites)")
            }
            let database = store.dataFolder.appendingPathComponent("casebook.sqlite")
            guard FileManager.default.fileExists(atPath: database.path) else {
                throw CommandError("there is no store in \(store.dataFolder.path): give the server's data folder with --data")
            }
            let sqlite = try SQLiteSyncStore(folder: store.dataFolder)
            let summary = try sqlite.backup(to: target)
            var line = "backed up \(summary.projects) project(s) and \(summary.changes) changes to \(target.path)"
            if summary.files > 0 {
                line += ", and \(summary.files) file(s) (\(FileUsage.describe(summary.bytes))) to \(SQLiteSyncStore.backupFilesFolder(target).path)"
            }
            print(line)
        }
    }
}
