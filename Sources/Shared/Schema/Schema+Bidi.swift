import Foundation

extension Schema {
    /// Whether `scalar` is a bidirectional formatting character that can reorder what follows it:
    /// an embedding or override (U+202A-202E) or an isolate (U+2066-2069). The marks (U+200E,
    /// U+200F, U+061C) are not: right-to-left keyboards insert them in ordinary names, and they
    /// cannot turn a run around; the client still shows them visibly on a terminal.
    package static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// Whether `scalar` is any bidirectional formatting character, the marks included: what a
    /// terminal shows visibly.
    package static func isBidiFormatting(_ scalar: Unicode.Scalar) -> Bool {
        isBidiControl(scalar) || [0x200E, 0x200F, 0x061C].contains(scalar.value)
    }

    /// What is wrong with a short text (a `text` value or a list item) holding a bidirectional
    /// formatting character, nil when it holds none. Such a character makes a title, a name or an
    /// id read as something else (`U+202E` turns `gnp.exe` around); right-to-left words display
    /// correctly without them, so short texts refuse them. Long text keeps them: a paragraph
    /// mixing scripts may need them, and the client shows them visibly on a terminal.
    package static func bidiProblem(_ text: String) -> String? {
        guard let scalar = text.unicodeScalars.first(where: isBidiControl) else { return nil }
        return "contains the bidirectional formatting character U+\(String(scalar.value, radix: 16, uppercase: true)), "
            + "which can make text display as something else: remove it (only long text fields may hold it)"
    }
}
