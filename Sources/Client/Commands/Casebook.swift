import ArgumentParser
import Foundation
import GRDB
import Shared

@main
struct Casebook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "casebook",
        abstract: "The Casebook field client: collect and edit records offline, sync when a network appears.",
        discussion: """
            Every command but 'init', 'sync' and 'fetch' works with no network. Start with
              casebook init --server URL --project NAME --token-file FILE
            (or set CASEBOOK_TOKEN, or type the token when asked)
            then add records, edit them, and run 'casebook sync' whenever you are online.
            Conflicting edits are kept side by side: see them with 'casebook conflicts' and settle
            them with 'casebook resolve' (a long text's versions together in your editor: --edit).
            Edits of different parts of a long text merge by themselves; 'casebook diff' shows what
            each version changed. Evidence files: 'casebook attach ID FILE...' (stored encrypted,
            uploaded by the next sync), 'files', 'fetch', 'extract', 'custody', 'verify'.
            --home DIR and --passphrase-file FILE may also come before the command: casebook --home DIR sync
            """,
        version: CasebookVersion.line(program: "casebook"),
        subcommands: [
            Init.self, Add.self, Edit.self, Delete.self, Restrict.self, Show.self, List.self, Status.self, Sync.self,
            Conflicts.self, Resolve.self, Log.self, Diff.self, Import.self, Export.self, Report.self, Grant.self, RotateKey.self,
            Attach.self, Files.self, Fetch.self, Extract.self, Custody.self,
            BundleCommand.self, Unlock.self, Lock.self, ChangePassphrase.self, Wipe.self, Encrypt.self, Verify.self, Pin.self,
            SchemaCommand.self, AgentServe.self,
        ])

    /// Runs the command: a domain error is one `error: ...` line and its exit code; a wrong
    /// command line prints usage and exits 64.
    static func main() async {
        // Swift would repair invalid UTF-8 in arguments silently; refuse it instead, before anything is stored.
        for index in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: strlen(raw))
            if String(validating: bytes, as: UTF8.self) == nil {
                fail("argument \(index) is not valid UTF-8 text: check the terminal's encoding (it should be UTF-8)", code: 64)
            }
        }
        do {
            var command = try parseAsRoot(GlobalOptions.rewrite(Array(CommandLine.arguments.dropFirst()), root: Casebook.self))
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as ClientError {
            fail(error.message, code: error.exitCode)
        } catch let error as ServerKeyMismatch {
            fail(error.description, code: ClientError.identityChangedExitCode)
        } catch let error as SchemaError {
            fail(error.message, code: 1)
        } catch let error as DatabaseError {
            fail("the replica database failed (\(error.message ?? "\(error.resultCode)")): nothing was changed; check free disk space and the folder's permissions", code: 1)
        } catch let error as StoredFile.Damaged {
            fail("\(error.description): nothing was sent or written from it; run 'casebook verify' to see every damaged file, and fetch it again from the server if it was uploaded", code: 1)
        } catch let error as StorageText.DamagedData {
            fail("\(error.description): the replica is damaged", code: 1)
        } catch {
            exit(withError: error)
        }
    }

    private static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("error: \(Output.forTerminal(message, TerminalText.stderrIsTerminal))\n".utf8))
        Foundation.exit(code)
    }
}

/// `--home`: the folder of the replica and its settings; `--passphrase-file`: how to open it.
struct HomeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The folder of the replica (env CASEBOOK_HOME, default ~/.casebook).", valueName: "DIR"))
    var home: String?

    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp(
        "A file holding the replica's passphrase (one line). Without it: env CASEBOOK_PASSPHRASE, the session 'casebook unlock' opened, or the terminal.",
        valueName: "FILE"))
    var passphraseFile: String?

    // Refused: a passphrase on the command line is visible to every user of the machine and kept in the shell's history.
    @Option(name: .customLong("passphrase"), help: .hidden)
    var passphraseArgument: String?

    func validate() throws {
        if passphraseArgument != nil {
            throw ValidationError("a passphrase is never taken on the command line (other users see it in the process list, and it stays in your shell history): use --passphrase-file FILE, set CASEBOOK_PASSPHRASE, or type it when asked")
        }
    }

    var url: URL {
        if let home { return URL(fileURLWithPath: home, isDirectory: true) }
        if let env = ProcessInfo.processInfo.environment["CASEBOOK_HOME"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".casebook", isDirectory: true)
    }
}

/// A command that works on an existing replica: it receives the opened replica and its settings.
protocol ReplicaCommand: AsyncParsableCommand {
    var homeOptions: HomeOptions { get }
    func run(replica: Replica, settings: ReplicaSettings) async throws
}

extension ReplicaCommand {
    func run() async throws {
        let replica = try ReplicaAccess.open(homeOptions)
        try await run(replica: replica, settings: try replica.settings())
    }
}
