import Foundation

/// Where `init` takes the token from, safest first after an explicit choice: a file
/// (`--token-file`), the environment (`CASEBOOK_TOKEN`), or the terminal (asked, not echoed).
/// `--token` still works, with a warning: a command line is visible to every user of the machine
/// (`ps`, /proc) and stays in the shell's history.
enum TokenInput {
    static let environmentKey = "CASEBOOK_TOKEN"

    /// The token, from the first source given; trimmed of surrounding whitespace.
    static func read(argument: String?, file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let token: String
        if let argument {
            Output.note("warning: a token given with --token is visible to other users of this machine and kept in your shell history: prefer --token-file FILE or \(environmentKey)")
            token = argument
        } else if let file {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw ClientError("cannot read the token file '\(file)': check the path and that it is readable by you")
            }
            token = text
        } else if let value = environment[environmentKey], !value.isEmpty {
            token = value
        } else if TerminalSecret.available {
            token = try prompt()
        } else {
            throw ClientError("no token given: use --token-file FILE, set \(environmentKey), or run 'casebook init' on a terminal to type it")
        }
        let trimmed = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ClientError("the token is empty: give the one 'casebook-server user add' printed") }
        return trimmed
    }

    /// Asks for the token on the terminal, not echoed.
    private static func prompt() throws -> String {
        guard let line = TerminalSecret.read(prompt: "token (not shown as you type): ") else {
            throw ClientError("no token typed: run 'casebook init' again and type the token, or use --token-file FILE")
        }
        return String(decoding: line, as: UTF8.self)
    }
}
