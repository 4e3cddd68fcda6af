import Foundation

/// Record ids: 128-bit, made offline, written as 32 lower-case hex digits.
///
/// Layout (UUIDv7, RFC 9562): 48 bits of Unix milliseconds, version 7, 12 random bits,
/// variant, 62 random bits. The id is time-ordered as 16 bytes; its *text form* puts the
/// random half first, rotated left by two bits so that even the first digit is random (the
/// variant bits go last), so a short prefix typed at the command line is almost always unique,
/// as the contract's "unique prefix of 6 characters" needs.
/// `RecordID.timeOrderKey` gives the time-ordered form back.
package enum RecordID {
    /// A new id for a record created at `now` (milliseconds since the epoch).
    package static func generate<G: RandomNumberGenerator>(now: UInt64, using generator: inout G) -> String {
        let random = generator.next()
        let high = (min(now, HLC.maxMillis) << 16) | 0x7000 | (generator.next() & 0x0FFF)
        let low = (random & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        // Text form: the random half first, then the time-ordered half.
        let rotated = (low << 2) | (low >> 62)
        return Hex.pad(rotated, width: 16) + Hex.pad(high, width: 16)
    }

    /// The time-ordered (UUIDv7 byte order) form of an id, for sorting by creation time.
    package static func timeOrderKey(_ id: String) -> String {
        guard id.count == 32, let rotated = UInt64(id.prefix(16), radix: 16) else { return id }
        return String(id.suffix(16)) + Hex.pad((rotated >> 2) | (rotated << 62), width: 16)
    }

    /// The creation time encoded in an id, if it is one of ours.
    package static func createdMillis(_ id: String) -> UInt64? {
        guard isValid(id), let high = UInt64(id.suffix(16), radix: 16) else { return nil }
        return high >> 16
    }

    /// Whether `text` has the shape of a record id.
    package static func isValid(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy(Hex.isLowerHexDigit)
    }
}

/// The outcome of looking up an id by prefix.
package enum PrefixMatch: Equatable, Sendable {
    case found(String)
    case notFound
    case ambiguous([String])
}

/// Resolves unique id prefixes, as typed by a user.
package enum IDPrefix {
    /// The shortest prefix a user may type.
    package static let minimumLength = 6

    /// Why a prefix could not be resolved, with a message that says what to do.
    package struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }

    /// Checks the typed text before any lookup: long enough and made of id characters.
    package static func validate(_ prefix: String, kind: String = "id") throws(Failure) -> String {
        let typed = prefix.lowercased()
        guard typed.count >= minimumLength else {
            throw Failure(message: "\(kind) '\(prefix)' is too short: type at least \(minimumLength) characters of it")
        }
        guard typed.utf8.allSatisfy(Hex.isLowerHexDigit) else {
            throw Failure(message: "'\(prefix)' is not a valid \(kind): ids are made of the characters 0-9 and a-f")
        }
        return typed
    }

    /// Resolves `prefix` among `candidates` (ids that start with it; at most a few are needed).
    package static func resolve(_ prefix: String, among candidates: [String]) -> PrefixMatch {
        let matches = candidates.filter { $0.hasPrefix(prefix) }
        if let exact = matches.first(where: { $0 == prefix }) { return .found(exact) }
        switch matches.count {
        case 0: return .notFound
        case 1: return .found(matches[0])
        default: return .ambiguous(matches.sorted())
        }
    }
}
