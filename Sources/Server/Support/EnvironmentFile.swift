import Foundation

/// A service's configuration file as systemd's `EnvironmentFile=` reads it (`/etc/casebook/server.env`):
/// `KEY=VALUE` lines; blank lines and lines starting with `#` or `;` are ignored; a value may be
/// quoted ('...' as written, "..." with `\"` and `\\` escapes). `doctor` reads it to check the
/// deployment with the settings the service gets.
struct EnvironmentFile {
    let path: String
    let values: [(key: String, value: String)]

    init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CommandError("cannot read \(path) (\(error.localizedDescription)): run as a user that can read it (root, or the service's user)")
        }
        self.path = path
        values = try Self.parse(text, path: path)
    }

    /// The assignments in `text`, in order.
    static func parse(_ text: String, path: String) throws -> [(key: String, value: String)] {
        var values: [(key: String, value: String)] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw CommandError("\(path), line \(number + 1): expected KEY=VALUE, found '\(line)'")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard isName(key) else {
                throw CommandError("\(path), line \(number + 1): '\(key)' is not a variable name (letters, digits and '_')")
            }
            values.append((key, unquoted(line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces))))
        }
        return values
    }

    /// Sets each variable in this process's environment, replacing what it inherited, as the service would see it.
    func apply() {
        for (key, value) in values { setenv(key, value, 1) }
    }

    private static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && CharacterSet.letters.contains(first)) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && CharacterSet.alphanumerics.contains($0)) }
    }

    private static func unquoted(_ value: String) -> String {
        guard value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote else { return value }
        let inner = String(value.dropFirst().dropLast())
        guard quote == "\"" else { return inner }
        var result = ""
        var escaped = false
        for character in inner {
            if escaped || character != "\\" {
                result.append(character)
                escaped = false
            } else {
                escaped = true
            }
        }
        return result
    }
}
