import Foundation

/// A passphrase as the user gave it, as bytes (never a `String`, which could not be zeroed), zeroed when released.
final class Passphrase {
    private var storage: [UInt8]

    init(_ bytes: [UInt8]) { storage = bytes }

    var isEmpty: Bool { storage.isEmpty }
    var count: Int { storage.count }

    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try storage.withUnsafeBytes(body)
    }

    func matches(_ other: Passphrase) -> Bool { storage == other.storage }

    deinit { storage.withUnsafeMutableBytes { DataKey.zero($0) } }
}

/// Where a passphrase comes from, in the contract's order: `--passphrase-file`, the environment, (the unlocked
/// session: `ReplicaAccess`), the terminal. Never the command line: `--passphrase` is refused (`HomeOptions`).
enum PassphraseInput {
    static let environmentKey = "CASEBOOK_PASSPHRASE"
    static let newEnvironmentKey = "CASEBOOK_NEW_PASSPHRASE"
    /// Below this many bytes `init` warns: a short passphrase falls to guessing despite the slow key derivation.
    static let advisedLength = 12

    /// The passphrase given without asking: the file, else the environment variable `key`; nil when neither.
    static func given(file: String?, environmentKey key: String = environmentKey,
                      environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Passphrase? {
        if let file {
            // Read to the end through a handle, so a pipe works too (`--passphrase-file <(pass show casebook)`).
            guard let handle = FileHandle(forReadingAtPath: file) else {
                throw ClientError("cannot read the passphrase file '\(file)': check the path and that it is readable by you")
            }
            defer { try? handle.close() }
            guard var bytes = (try? handle.readToEnd()).map({ [UInt8]($0 ?? Data()) }) else {
                throw ClientError("cannot read the passphrase file '\(file)': check the path and that it is readable by you")
            }
            // One line end closes the file; everything else (spaces too) is the passphrase.
            if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            guard !bytes.isEmpty else { throw ClientError("the passphrase file '\(file)' is empty") }
            return Passphrase(bytes)
        }
        if let value = environment[key], !value.isEmpty { return Passphrase(Array(value.utf8)) }
        return nil
    }

    /// Asks on the terminal (not echoed); nil when there is no terminal.
    static func ask(_ prompt: String) throws -> Passphrase? {
        guard TerminalSecret.available else { return nil }
        guard let bytes = TerminalSecret.read(prompt: prompt), !bytes.isEmpty else {
            throw ClientError("no passphrase typed: nothing was changed")
        }
        return Passphrase(bytes)
    }

    /// A new passphrase (for `init`, `encrypt`, `passphrase`): the file or environment variable, else typed twice.
    static func new(file: String?, environmentKey key: String, purpose: String) throws -> Passphrase {
        if let given = try given(file: file, environmentKey: key) { return checked(given) }
        guard TerminalSecret.available else {
            throw ClientError("the replica is locked: no passphrase for \(purpose): type one on a terminal, give it in a file (see --help), or set \(key)",
                              exitCode: ClientError.lockedExitCode)
        }
        guard let first = try ask("new passphrase for \(purpose) (not shown): "), let second = try ask("the same again: ") else {
            throw ClientError("no passphrase typed: nothing was changed")
        }
        guard first.matches(second) else { throw ClientError("the two passphrases differ: nothing was changed; try again") }
        return checked(first)
    }

    private static func checked(_ passphrase: Passphrase) -> Passphrase {
        if passphrase.count < advisedLength {
            Output.note("warning: a passphrase shorter than \(advisedLength) characters can be guessed by whoever takes the laptop; prefer a few random words")
        }
        return passphrase
    }
}
extension Passphrase: PassphraseBytes {}
