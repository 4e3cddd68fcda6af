import Foundation

/// Lets a person edit a text in their editor: `$EDITOR`, else `$VISUAL`, else `vi`, run by the
/// shell (so `EDITOR="code --wait"` works) on a file only this user can read, removed afterwards.
enum TextEditor {
    /// The editor command from the environment.
    static func command(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        for name in ["EDITOR", "VISUAL"] {
            if let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { return value }
        }
        return "vi"
    }

    /// The text after the person edited `text`; throws, changing nothing, when the editor cannot be
    /// started or exits with a failure.
    static func edit(_ text: String, fileName: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-edit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent(fileName)
        guard FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ClientError("could not write the text to edit in \(folder.path): check that the temporary folder is writable")
        }
        let editor = command()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "\(editor) \"$1\"", "casebook-editor", file.path]
        do {
            try process.run()
        } catch {
            throw ClientError("could not start the editor '\(editor)' (\(error.localizedDescription)): set EDITOR to a program that edits a file; nothing was changed")
        }
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw ClientError("the editor '\(editor)' exited with status \(process.terminationStatus): nothing was changed, and the conflict stays open")
        }
        guard let data = FileManager.default.contents(atPath: file.path), let edited = String(data: data, encoding: .utf8) else {
            throw ClientError("the edited text could not be read back as UTF-8: nothing was changed, and the conflict stays open")
        }
        return edited
    }
}
