import Foundation

/// One attached file as a `files` field lists it: the content's SHA-256 (its identity) and what the
/// person attached. The bytes travel apart from the change (docs/protocol.md, "Evidence files").
package struct FileRef: Hashable, Sendable, Codable {
    /// The SHA-256 of the content, 64 lower-case hex digits.
    package var sha256: String
    /// The file's name as attached, sanitised (`FileRef.sanitizedName`): no folders, no control characters.
    package var name: String
    /// The content's length in bytes.
    package var size: Int64
    /// The media type, e.g. `image/jpeg`; `application/octet-stream` when unknown.
    package var mime: String

    package init(sha256: String, name: String, size: Int64, mime: String) {
        self.sha256 = sha256
        self.name = name
        self.size = size
        self.mime = mime
    }

    /// Longest name, in bytes of UTF-8 (what most file systems allow for one path component).
    package static let maxNameBytes = 255
    /// Largest file, in bytes (1 TiB): far beyond any field recording, small enough for every counter.
    package static let maxSize: Int64 = 1 << 40
    /// The media type of content nobody named.
    package static let unknownMime = "application/octet-stream"

    /// Whether `text` is a SHA-256 as files are named: 64 lower-case hex digits.
    package static func isSHA256(_ text: String) -> Bool {
        let bytes = text.utf8
        return bytes.count == 64 && bytes.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// A name safe to store and to write back out: the last path component of `original`, with control
    /// characters, path separators and reordering (bidi) characters replaced by `_`, cut to `maxNameBytes`
    /// on a character boundary, and never empty, `.` or `..` (then `file`).
    package static func sanitizedName(_ original: String) -> String {
        let component = original.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var scalars = String.UnicodeScalarView()
        for scalar in component.unicodeScalars {
            scalars.append(isUnsafeInName(scalar) ? "_" : scalar)
        }
        var name = String(scalars).precomposedStringWithCanonicalMapping
        while name.utf8.count > maxNameBytes { name.removeLast() }
        name = name.trimmingCharacters(in: .whitespaces)
        return name.isEmpty || name == "." || name == ".." ? "file" : name
    }

    /// What is wrong with the reference, nil when nothing is. The server and every replica check the same.
    package var problem: String? {
        guard Self.isSHA256(sha256) else { return "has a file whose sha256 is not 64 lower-case hex digits" }
        guard size >= 0, size <= Self.maxSize else { return "has a file whose size is not between 0 and \(Self.maxSize) bytes" }
        guard name == Self.sanitizedName(name) else {
            return "has a file whose name '\(name.prefix(60))' is not a plain file name (no folders, control or reordering characters, at most \(Self.maxNameBytes) bytes)"
        }
        guard Self.isMediaType(mime) else { return "has a file whose media type '\(mime.prefix(60))' is not of the form type/subtype" }
        return nil
    }

    private static func isUnsafeInName(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        let isControl = value < 0x20 || (value >= 0x7F && value <= 0x9F)
        let reorders = (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
        return isControl || reorders || scalar == "/" || scalar == "\\"
    }

    /// `type/subtype` in the token characters of RFC 6838, at most 127 bytes.
    private static func isMediaType(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard text.utf8.count <= 127, parts.count == 2 else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.utf8.allSatisfy { byte in
                (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || "!#$&^_.+-".utf8.contains(byte)
            }
        }
    }
}
