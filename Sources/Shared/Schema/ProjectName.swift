import Foundation

/// The rule for project names (and, on the server, user names): 1-64 ASCII letters, digits,
/// '-' and '_'. Next to `Schema.isValidName`, the rule for collection and field names.
package enum ProjectName {
    /// The rule in words, for messages.
    package static let rule = "1-64 letters, digits, '-' and '_'"

    /// Whether `name` follows the rule. A name that does not can name no project, so the server
    /// refuses it before any lookup (PostgreSQL would refuse some of its bytes, such as NUL, outright).
    package static func isValid(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }
}
