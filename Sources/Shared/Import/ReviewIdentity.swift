import Foundation

/// Which review a file or a row is about: the state under review and its UPR cycle or Working Group session,
/// as a thematic list's header (`UPR of Slovenia (4th Cycle - 48th Session)`) or a dataset's columns name them.
package struct ReviewIdentity: Hashable, Sendable {
    /// The state under review, as written.
    package var state: String?
    /// The UPR cycle (1 for 2008-2012, 2 for 2012-2017, ...).
    package var cycle: Int64?
    /// The Working Group session, as a number without its ordinal (`48`).
    package var session: String?

    /// An identity from its parts.
    package init(state: String? = nil, cycle: Int64? = nil, session: String? = nil) {
        self.state = state
        self.cycle = cycle
        self.session = session
    }

    /// The cycle, or the one the session belongs to.
    package var effectiveCycle: Int64? { cycle ?? session.flatMap(Self.cycle(ofSession:)) }

    /// Whether it names a state and a cycle (directly or through its session): enough to find or create a review.
    package var isComplete: Bool { state != nil && effectiveCycle != nil }

    /// `Slovenia, cycle 4, session 48`, for messages.
    package var description: String {
        var parts = [state ?? "an unnamed state"]
        if let cycle = effectiveCycle { parts.append("cycle \(cycle)") }
        if let session { parts.append("session \(session)") }
        return parts.joined(separator: ", ")
    }

    /// This identity with what `other` gives where this one gives nothing (a row's columns over the file's header).
    package func filled(from other: ReviewIdentity?) -> ReviewIdentity {
        guard let other else { return self }
        return ReviewIdentity(state: state ?? other.state, cycle: cycle ?? other.cycle, session: session ?? other.session)
    }

    /// The cycle of a Working Group session: 12 sessions in the first cycle, 14 in each later one
    /// (sessions 1-12, 13-26, 27-40, 41-54, ...).
    package static func cycle(ofSession session: String) -> Int64? {
        guard let number = sessionNumber(session).flatMap({ Int64($0) }), number > 0 else { return nil }
        return number <= 12 ? 1 : 2 + (number - 13) / 14
    }

    /// A session as its number, the first run of digits: `48th`, `48`, `Session 48` -> `48`, `7.0` -> `7`; nil
    /// when it has no digits.
    package static func sessionNumber(_ text: String) -> String? {
        let digits = text.drop { !("0"..."9").contains($0) }.prefix { ("0"..."9").contains($0) }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        return String(number)
    }

    /// The identity a document's title or header names, e.g. `UPR of Slovenia (2nd Cycle – 20th session)` or
    /// `Universal Periodic Review: Kazakhstan, third cycle`; nil when it names neither a cycle nor a session.
    package static func parse(title: String) -> ReviewIdentity? {
        let text = title.replacingOccurrences(of: "\t", with: " ")
        var identity = ReviewIdentity()
        if let match = text.firstMatch(of: /(?i)(\d{1,2})\s*(?:st|nd|rd|th)?\s+cycle|cycle\s+(\d{1,2})\b/) {
            identity.cycle = Int64(match.1.map(String.init) ?? match.2.map(String.init) ?? "")
        } else if let match = text.firstMatch(of: /(?i)\b(first|second|third|fourth|fifth|sixth)\s+cycle/) {
            let ordinals = ["first", "second", "third", "fourth", "fifth", "sixth"]
            identity.cycle = ordinals.firstIndex(of: match.1.lowercased()).map { Int64($0 + 1) }
        }
        if let match = text.firstMatch(of: /(?i)(\d{1,3})\s*(?:st|nd|rd|th)?\s+session|session\s+(\d{1,3})\b/) {
            identity.session = sessionNumber(String(match.1 ?? match.2 ?? ""))
        }
        guard identity.cycle != nil || identity.session != nil else { return nil }
        if let match = text.firstMatch(of: /(?i)(?:UPR|Universal\s+Periodic\s+Review)\s*(?:of|:|-|–)?\s+([^(\n:;,–]+?)\s*(?:\(|,|–|-\s|$)/) {
            let state = String(match.1).trimmed
            if !state.isEmpty && state.first?.isNumber == false && !state.lowercased().hasPrefix("thematic") { identity.state = state }
        }
        return identity
    }
}
