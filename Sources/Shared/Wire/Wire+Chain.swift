import Foundation

extension Wire {
    /// What a pull page carries of the project's hash-chained log (`LogChain`), so that a replica
    /// checks the page extends the head it verified before it applies anything.
    ///
    /// On the wire, the page's key `chain`: `{"after": HEX, "cursor": HEX, "withheld": BASE64}`.
    /// `withheld` is left out when empty.
    package struct PageChain: Sendable, Equatable {
        /// The chain value at the request's `after` (genesis for 0).
        package var after: LogChain
        /// The chain value at the page's `cursor`.
        package var cursor: LogChain
        /// The digests of the entries in `(after, cursor]` that the page leaves out (the puller's
        /// own changes it already holds, records it may not read), in sequence order: the replica
        /// chains over them without their content, which the digests do not reveal.
        package var withheld: [ChangeDigest]

        package init(after: LogChain, cursor: LogChain, withheld: [ChangeDigest] = []) {
            self.after = after
            self.cursor = cursor
            self.withheld = withheld
        }

        /// The withheld digests as one base64 text of their bytes, 32 each (43 characters a digest
        /// instead of 67 as a list of hex strings: a pull after a large push carries many).
        package var withheldText: String {
            Data(ChangeDigest.pack(withheld)).base64EncodedString()
        }

        /// The digests of a `withheld` text; nil when it is not base64 of a whole number of digests.
        package static func withheld(fromText text: String) -> [ChangeDigest]? {
            Data(base64Encoded: text).flatMap(ChangeDigest.unpack)
        }
    }
}

extension Wire.PageChain: Codable {
    private enum CodingKeys: String, CodingKey { case after, cursor, withheld }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        after = try container.decode(LogChain.self, forKey: .after)
        cursor = try container.decode(LogChain.self, forKey: .cursor)
        let text = try container.decodeIfPresent(String.self, forKey: .withheld) ?? ""
        guard let digests = Self.withheld(fromText: text) else {
            throw DecodingError.dataCorruptedError(forKey: .withheld, in: container, debugDescription: "withheld digests are base64 of 32 bytes each")
        }
        withheld = digests
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(after, forKey: .after)
        try container.encode(cursor, forKey: .cursor)
        if !withheld.isEmpty { try container.encode(withheldText, forKey: .withheld) }
    }
}
