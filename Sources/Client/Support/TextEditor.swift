import Foundation

/// Lets a person edit a text in their editor: `$EDITOR`, else `$VISUAL`, else `vi`, run by the
/// shell (so `EDITOR="code --wait"` works) on a file only this user can read, in a folder of its own
/// in memory where the system offers one (`$XDG_RUNTIME_DIR`, else `/dev/shm`): the text is a
/// replica's data in clear. The file is overwritten with zeros and the folder removed afterwards.
enum TextEditor {
    /// Where the folder goes: a per-user tmpfs, else shared memory, else the temporary folder.
    static func parent(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        var isFolder: ObjCBool = false
        for path in [environment["XDG_RUNTIME_DIR"], "/dev/shm"].compactMap({ $0 }) where !path.isEmpty {
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue, FileManager.default.isWritableFile(atPath: path) {
                return URL(fileURLWithPath: path)
            }
        }
        return FileManager.default.temporaryDirectory
    }

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
        let folder = parent().appendingPathComponent("casebook-edit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let file = folder.appendingPathComponent(fileName)
        defer {
            if let size = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int, let handle = FileHandle(forWritingAtPath: file.path) {
                handle.write(Data(count: size))
                try? handle.synchronize()
                try? handle.close()
            }
            try? FileManager.default.removeItem(at: folder)
        }
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
