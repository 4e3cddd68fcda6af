import ArgumentParser

/// The options every replica command takes, accepted before the subcommand as well as after it
/// (`casebook --home DIR sync`, as git and docker users expect): they are moved after the
/// subcommand before ArgumentParser reads the command line, so each command keeps declaring them once.
enum GlobalOptions {
    /// The global options; each takes a value (`--home DIR` or `--home=DIR`). `--passphrase` is
    /// refused by every command, and moving it lets the command say why rather than "unknown option".
    static let optionNames: Set<String> = ["--home", "--passphrase-file", "--passphrase"]

    /// `arguments` (without the program's name) with the global options given before the subcommand
    /// moved after it (after the whole path of a nested subcommand). Global options followed by no
    /// subcommand are dropped: `casebook --home DIR` prints the usage, as `casebook` does. A global
    /// option missing its value leaves the arguments as they are, for the parser to report.
    static func rewrite(_ arguments: [String], root: ParsableCommand.Type) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if optionNames.contains(argument) {
                guard index + 1 < arguments.count, !arguments[index + 1].hasPrefix("-") else { return arguments }
                leading += [argument, arguments[index + 1]]
                index += 2
            } else if let equals = argument.firstIndex(of: "="), optionNames.contains(String(argument[..<equals])) {
                leading.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty else { return arguments }
        let rest = Array(arguments[index...])
        let depth = subcommandDepth(rest, root: root)
        guard depth > 0 else { return rest }
        return Array(rest[..<depth]) + leading + Array(rest[depth...])
    }

    /// How many of the leading `arguments` name a subcommand path from `root` (0: none).
    private static func subcommandDepth(_ arguments: [String], root: ParsableCommand.Type) -> Int {
        var command = root
        var depth = 0
        while depth < arguments.count,
              let next = command.configuration.subcommands.first(where: { commandNames($0).contains(arguments[depth]) }) {
            command = next
            depth += 1
        }
        return depth
    }

    private static func commandNames(_ command: ParsableCommand.Type) -> [String] {
        [command._commandName] + command.configuration.aliases
    }
}
