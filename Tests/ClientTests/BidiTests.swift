import Foundation
import Testing
@testable import Client
@testable import Shared

/// Issue 14, item 14: bidirectional formatting characters are refused in short text (titles,
/// names, list items; ids and vocabulary terms admit none anyway), kept in long text, and shown
/// visibly on a terminal.
@Suite struct BidiTests {
    static let controls: [Unicode.Scalar] = [
        "\u{202A}", "\u{202B}", "\u{202C}", "\u{202D}", "\u{202E}", "\u{2066}", "\u{2067}", "\u{2068}", "\u{2069}",
    ]

    @Test(arguments: controls)
    func shortTextRefusesThemAndLongTextKeepsThem(_ control: Unicode.Scalar) throws {
        let text = "invoice\(Character(control))fdp.exe"
        let schema = Schema.upr
        for (collection, field) in [("incidents", "title"), ("incidents", "location"), ("recommendations", "recommending_state")] {
            let error = #expect(throws: SchemaError.self, "\(field)") { try schema.parse(text, collection: collection, field: field) }
            #expect(error?.message.contains("bidirectional formatting character") == true, "\(error?.message ?? "")")
        }
        // Long text may need them (a paragraph mixing Arabic and English, say).
        #expect(try schema.parse("قال \(Character(control))UN\u{200F} امس", collection: "incidents", field: "description") != .unset)
        // A pushed change holding one in a title is refused; a pulled one (accepted by the server,
        // perhaps before this rule) is not, so a replica never stops syncing for good over it.
        let change = Change(collection: "incidents", record: String(format: "%032x", 1), field: "title", value: .text(text),
                            hlc: HLC(millis: 1, counter: 0, node: NodeID("00000000000000b2")!), author: "bek", base: nil)
        #expect(throws: SchemaError.self) { try schema.validate(change) }
        #expect(throws: Never.self) { try schema.validate(change, refusingBidi: false) }
        // On a terminal it shows as what it is.
        #expect(TerminalText.visible(text).contains("<U+"))
    }

    @Test func rightToLeftTextWithoutControlsIsAccepted() throws {
        #expect(try Schema.upr.parse("احتجاج في ألماتي", collection: "incidents", field: "title") == .text("احتجاج في ألماتي"))
        // The marks a right-to-left keyboard inserts cannot reorder a run: a name may hold them.
        for mark in ["\u{200E}", "\u{200F}", "\u{061C}"] {
            #expect(try Schema.upr.parse("سارا\(mark) Ahmadi", collection: "incidents", field: "title") == .text("سارا\(mark) Ahmadi"))
        }
    }
}
