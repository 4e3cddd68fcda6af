import Foundation

/// The encodings a spreadsheet saves CSV in, found from a file's bytes or named with `--encoding`.
enum TextEncoding: String, CaseIterable, Sendable {
    case utf8 = "utf-8"
    case utf16LittleEndian = "utf-16le"
    case utf16BigEndian = "utf-16be"
    case windows1252 = "windows-1252"
    case macRoman = "macroman"

    /// What a notice calls it.
    var displayName: String {
        switch self {
        case .utf8: "UTF-8"
        case .utf16LittleEndian: "UTF-16 (little-endian)"
        case .utf16BigEndian: "UTF-16 (big-endian)"
        case .windows1252: "Windows-1252"
        case .macRoman: "Mac Roman"
        }
    }

    /// The encoding `--encoding` names, in the spellings people use (`cp1252`, `mac`, `UTF16`...).
    init(named name: String) throws {
        let key = name.lowercased().filter { $0.isLetter || $0.isNumber }
        switch key {
        case "utf8": self = .utf8
        case "utf16", "utf16le", "unicode": self = .utf16LittleEndian
        case "utf16be": self = .utf16BigEndian
        case "windows1252", "cp1252", "win1252", "latin1", "iso88591", "ansi": self = .windows1252
        case "macroman", "mac", "macintosh", "xmacroman": self = .macRoman
        default:
            throw ClientError("unknown encoding '\(name)': use one of \(TextEncoding.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    var foundation: String.Encoding {
        switch self {
        case .utf8: .utf8
        case .utf16LittleEndian: .utf16LittleEndian
        case .utf16BigEndian: .utf16BigEndian
        case .windows1252: .windowsCP1252
        case .macRoman: .macOSRoman
        }
    }

    /// The encoding of a file that starts with `head` (its first bytes; `complete` when that is the whole file):
    /// a byte order mark says it; text that is valid UTF-8 is UTF-8; anything else is Windows-1252 or Mac Roman,
    /// whichever reads as more letters and common punctuation (they differ on every byte above 0x7F).
    static func detect(head: [UInt8], complete: Bool) -> TextEncoding {
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { return .utf8 }
        if head.starts(with: [0xFF, 0xFE]) { return .utf16LittleEndian }
        if head.starts(with: [0xFE, 0xFF]) { return .utf16BigEndian }
        if isUTF8(head, complete: complete) { return .utf8 }
        return plausibility(head, .windows1252) >= plausibility(head, .macRoman) ? .windows1252 : .macRoman
    }

    /// Whether `bytes` are UTF-8, allowing a character cut off at the end when they are only the file's start.
    private static func isUTF8(_ bytes: [UInt8], complete: Bool) -> Bool {
        if String(validating: bytes, as: UTF8.self) != nil { return true }
        guard !complete else { return false }
        // A multi-byte character cut at the end of the sample is at most 3 bytes long.
        for cut in 1...3 where bytes.count > cut {
            if String(validating: bytes.dropLast(cut), as: UTF8.self) != nil { return true }
        }
        return false
    }

    /// How well the bytes above 0x7F read when decoded as `encoding`: a lower-case letter, a capital that starts
    /// a word, or the punctuation spreadsheets write (’ “ ” – …) counts for it; a capital inside a word or any
    /// other symbol counts against it; a byte the encoding does not define rules it out.
    private static func plausibility(_ bytes: [UInt8], _ encoding: TextEncoding) -> Int {
        let common: Set<Unicode.Scalar> = ["\u{2019}", "\u{2018}", "\u{201C}", "\u{201D}", "\u{2013}", "\u{2014}", "\u{2026}", "\u{00A0}", "\u{20AC}"]
        var decoded: [UInt8: Unicode.Scalar?] = [:]
        func isLetter(_ byte: UInt8) -> Bool { (65...90).contains(byte) || (97...122).contains(byte) || byte >= 0x80 }
        var score = 0
        for (index, byte) in bytes.enumerated() where byte >= 0x80 {
            if decoded[byte] == nil {
                let scalar = String(data: Data([byte]), encoding: encoding.foundation)?.unicodeScalars.first
                decoded[byte] = .some(scalar?.value == 0xFFFD ? nil : scalar)
            }
            guard let scalar = decoded[byte]!, scalar.value != 0xFFFD else {
                score -= 100
                continue
            }
            let insideWord = index > 0 && isLetter(bytes[index - 1]) && index + 1 < bytes.count && (97...122).contains(bytes[index + 1])
            if scalar.properties.isLowercase || common.contains(scalar) {
                score += 2
            } else if scalar.properties.isUppercase {
                score += insideWord ? -2 : 2
            } else {
                score -= 2
            }
        }
        return score
    }
}

/// A text file's bytes as UTF-8, and the encoding they were read in.
struct DecodedText {
    var bytes: [UInt8]
    var encoding: TextEncoding
    /// Whether the encoding was found from the bytes rather than named.
    var detected: Bool

    /// A CSV reader for the file at `path`, in the encoding `named` or the one its first 64 KiB show. A UTF-8
    /// file is streamed as before; any other is decoded whole first (spreadsheets' exports are small).
    static func csvReader(path: String, named: TextEncoding?) throws -> (reader: CSVReader, encoding: TextEncoding, detected: Bool) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ClientError("cannot read '\(path)': check the path and that the file is readable")
        }
        let sample = 1 << 16
        let head = [UInt8]((try? handle.read(upToCount: sample)) ?? Data())
        try? handle.close()
        let encoding = named ?? TextEncoding.detect(head: head, complete: head.count < sample)
        if encoding == .utf8 {
            var reader = try CSVReader(path: path)
            reader.delimiter = CSVReader.delimiter(of: head.starts(with: [0xEF, 0xBB, 0xBF]) ? head.dropFirst(3) : head[...])
            return (reader, .utf8, named == nil)
        }
        let decoded = try read(path: path, named: encoding)
        var reader = CSVReader(bytes: decoded.bytes)
        reader.delimiter = CSVReader.delimiter(of: decoded.bytes.prefix(sample))
        return (reader, encoding, named == nil)
    }

    /// Reads the file at `path` as `named`, or in the encoding its bytes show.
    static func read(path: String, named: TextEncoding?) throws -> DecodedText {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ClientError("cannot read '\(path)': check the path and that the file is readable")
        }
        let bytes = [UInt8](data)
        let encoding = named ?? TextEncoding.detect(head: bytes, complete: true)
        if encoding == .utf8 { return DecodedText(bytes: bytes, encoding: .utf8, detected: named == nil) }
        var body = data
        if encoding == .utf16LittleEndian && bytes.starts(with: [0xFF, 0xFE]) || encoding == .utf16BigEndian && bytes.starts(with: [0xFE, 0xFF]) {
            body = data.dropFirst(2)
        }
        guard let text = String(data: body, encoding: encoding.foundation) else {
            throw ClientError("'\(path)' is not valid \(encoding.displayName): name its encoding with --encoding (\(TextEncoding.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return DecodedText(bytes: Array(text.utf8), encoding: encoding, detected: named == nil)
    }
}
