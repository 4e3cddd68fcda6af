import Foundation
import Shared

extension BenchData {
    /// Fields each generated recommendation fills: paragraph, text, states, response, themes, cycle.
    static let recommendationFields = 6

    /// Pairs of states, a theme pair as ids and as the UN's words (one with a comma), and a response both ways.
    private static let statePairs = [["Maldives", "Portugal"], ["Iran (Islamic Republic of)", "Türkiye"], ["Viet Nam", "Spain"]]
    private static let themePairs: [(ids: String, un: String)] = [
        ("torture_and_ill_treatment,justice_and_impunity", "Prohibition of torture & cruel, inhuman or degrading treatment; Access to justice & remedy"),
        ("international_instruments,poverty_and_social_security",
         "Ratification of & accession to international instruments; Economic, social & cultural rights - general measures of implementation"),
        ("womens_rights,gender_based_violence", "Discrimination against women; Domestic violence"),
    ]
    private static let responses: [(id: String, un: String)] = [("supported", "Accepted"), ("noted", "Rejected"), ("supported_in_part", "Partially supported")]

    /// The field values `casebook import recommendations` stores for row `index` of the term-id CSV
    /// (the raw insert's rows for the record-shapes phase): the same sizes and kinds, one row a field.
    static func recommendationRecord(_ index: Int, _ generator: inout Generator) -> [(String, FieldValue)] {
        let themes = themePairs[index % themePairs.count].ids.split(separator: ",").map(String.init)
        return [
            ("paragraph", .text("\(100 + index / 300).\(index % 300 + 1)")),
            ("text", .text("Ratify " + Self.text(120, &generator).trimmingCharacters(in: .whitespaces))),
            ("recommending_state", .list(statePairs[index % statePairs.count])),
            ("response", .text(responses[index % responses.count].id)),
            ("themes", .list(themes)),
            ("cycle", .integer(4)),
        ]
    }

    /// A CSV of `count` recommendations for `casebook import recommendations`.
    static func recommendationsCSV(count: Int, unWording: Bool, to path: URL) throws {
        var generator = Generator(seed: 7)
        FileManager.default.createFile(atPath: path.path, contents: nil)
        let handle = try FileHandle(forWritingTo: path)
        defer { try? handle.close() }
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        var buffer = unWording ? "Recommendation,Response,Themes,Cycle\n" : "paragraph,text,recommending_state,response,themes,cycle\n"
        for index in 0..<count {
            let paragraph = "\(100 + index / 300).\(index % 300 + 1)"
            let text = "Ratify " + Self.text(120, &generator).trimmingCharacters(in: .whitespaces)
            let states = statePairs[index % statePairs.count], themes = themePairs[index % themePairs.count]
            let response = responses[index % responses.count]
            if unWording {
                let un = "\(paragraph) \(text) " + states.map { "(\($0))" }.joined(separator: " ") + ";"
                buffer += [quoted(un), response.un, quoted(themes.un), "4"].joined(separator: ",") + "\n"
            } else {
                buffer += [paragraph, quoted(text), quoted(states.joined(separator: ",")), response.id, quoted(themes.ids), "4"].joined(separator: ",") + "\n"
            }
            if buffer.utf8.count > 1 << 20 {
                handle.write(Data(buffer.utf8))
                buffer = ""
            }
        }
        handle.write(Data(buffer.utf8))
    }
}
