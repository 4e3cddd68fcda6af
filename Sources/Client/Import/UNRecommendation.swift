import Foundation
import Shared

/// Takes apart what the UN writes in a recommendation's text cell.
enum UNRecommendation {
    /// `140.7 Ratify ... (Maldives) (Portugal);` + `Source of Position: ...` -> paragraph, text, recommending
    /// states and source of position, each filling its field unless the row gave it in a column of its own.
    static func takeApart(_ values: inout [String: FieldValue], cells: CellReader) {
        guard case .text(let raw)? = values["text"] else { return }
        let stateField = cells.collection.field("recommending_state")
        let states = stateField.flatMap { cells.matcher(for: $0) }
        let parsed = RecommendationText.parse(raw, isState: { states?.term($0) != nil })
        guard parsed.paragraph != nil || !parsed.states.isEmpty || parsed.sourceOfPosition != nil else { return }
        values["text"] = .text(parsed.text)
        if values["paragraph"] == nil, let paragraph = parsed.paragraph { values["paragraph"] = .text(paragraph) }
        if let stateField, !parsed.states.isEmpty {
            let had: [String] = if case .list(let items)? = values[stateField.name] { items } else { [] }
            values[stateField.name] = .list(cells.normalised(had.isEmpty ? parsed.states : had, field: stateField))
        }
        if let source = parsed.sourceOfPosition, cells.collection.field("source_of_position") != nil, values["source_of_position"] == nil {
            values["source_of_position"] = .text(source)
        }
    }
}
