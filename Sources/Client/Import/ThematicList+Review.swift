import Foundation
import Shared

extension ThematicList {
    /// The review a thematic list names: its page header (`UPR of Slovenia (4th Cycle - 48th Session)`), else the
    /// paragraphs before its table, else the document's title. Nil when none names a cycle or a session.
    static func identity(_ file: OfficeFile) -> ReviewIdentity? {
        var candidates: [String] = []
        for part in file.partNames(under: "word/header") where part.hasSuffix(".xml") {
            candidates += (try? paragraphs(file, part: part, beforeTable: false)) ?? []
        }
        candidates += (try? paragraphs(file, part: "word/document.xml", beforeTable: true)) ?? []
        if file.has("docProps/core.xml"), let title = try? coreTitle(file) { candidates.append(title) }
        var found: ReviewIdentity?
        for text in candidates {
            guard let identity = ReviewIdentity.parse(title: text) else { continue }
            found = found.map { $0.filled(from: identity) } ?? identity
            if found?.state != nil && found?.cycle != nil && found?.session != nil { break }
        }
        return found
    }

    /// The text of each paragraph of a part (tabs read as spaces), up to its first table when `beforeTable`.
    private static func paragraphs(_ file: OfficeFile, part: String, beforeTable: Bool) throws -> [String] {
        var paragraphs: [String] = [], paragraph = "", inText = false, stopped = false
        try XMLWalker.walk(try file.part(part), what: "part '\(part)' of '\(file.path)'", start: { name, _ in
            guard !stopped else { return }
            switch name {
            case "w:tbl" where beforeTable: stopped = true
            case "w:p": paragraph = ""
            case "w:t": inText = true
            case "w:tab": paragraph += " "
            default: break
            }
        }, end: { name in
            if name == "w:t" { inText = false }
            if name == "w:p" && !stopped && !paragraph.trimmed.isEmpty { paragraphs.append(paragraph) }
        }, text: { text in
            if inText && !stopped { paragraph += text }
        })
        return paragraphs
    }

    private static func coreTitle(_ file: OfficeFile) throws -> String? {
        var title = "", inTitle = false
        try XMLWalker.walk(try file.part("docProps/core.xml"), what: "the properties of '\(file.path)'", start: { name, _ in
            if name == "dc:title" { inTitle = true }
        }, end: { name in
            if name == "dc:title" { inTitle = false }
        }, text: { text in
            if inTitle { title += text }
        })
        return title.isEmpty ? nil : title.replacingOccurrences(of: "_", with: " ")
    }
}
