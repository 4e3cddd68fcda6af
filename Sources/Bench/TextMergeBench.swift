import Foundation
import Shared
import TestSupport

/// The automatic merge of long text, in process: how long a replica (or the server, under its
/// write lock) takes to merge a 20-page description, and how many false conflicts each way of
/// cutting text gives on the edits researchers make (docs/performance.md, "Merging long text").
enum TextMergeBench {
    /// Timed merges of a 20-page description: two concurrent edits, three, and two that overlap.
    static func rows(repeats: Int) -> [Row] {
        var random = SplitMix64(seed: 21)
        let base = NarrativeText.pages(20, using: &random)
        let last = base.paragraphs.count - 1
        var ana = base, bek = base, cem = base, dan = base
        ana.apply(.fixNumber, paragraph: 2, sentence: 0, using: &random)
        bek.apply(.appendSentence, paragraph: last, sentence: 0, using: &random)
        cem.apply(.rewriteSentence, paragraph: last / 2, sentence: 1, using: &random)
        dan.apply(.fixWord, paragraph: 2, sentence: 0, using: &random)
        let size = "20 pages (\(base.text.count / 1000)k characters, \(base.paragraphs.count) paragraphs)"
        var rows: [Row] = []
        for (name, versions) in [("2 concurrent edits", [ana, bek]), ("3 concurrent edits", [ana, bek, cem]), ("2 edits of one sentence", [ana, dan])] {
            let (median, worst, merged) = time(repeats: repeats) { TextMerge.merge(base: base.text, versions: versions.map(\.text)) != nil }
            rows.append(Row(phase: "text merge: \(name)", size: size, time: median, rate: nil, ratio: nil,
                            note: "median of \(repeats), max \(String(format: "%.2f", worst * 1000)) ms; \(merged ? "merged" : "conflict")"))
        }
        // The whole rule as a replica runs it: find the base through history, then merge.
        let v0 = change(base.text, 1), a = change(ana.text, 2, base: v0.hlc), b = change(bek.text, 3, base: v0.hlc)
        let graph = VersionGraph([v0, a, b], complete: true), state = FieldState(heads: [Version(a), Version(b)])
        let (median, worst, merged) = time(repeats: repeats) {
            if case .merged? = FieldMerge.resolve(state, hook: .longText, graph: graph) { return true }
            return false
        }
        rows.append(Row(phase: "field merge (base found through history): 2 concurrent edits", size: size, time: median, rate: nil, ratio: nil,
                        note: "median of \(repeats), max \(String(format: "%.2f", worst * 1000)) ms; \(merged ? "merged" : "conflict")"))
        return rows
    }

    static func change(_ text: String, _ millis: UInt64, base: HLC? = nil) -> Change {
        Change(collection: "incidents", record: "0123456789abcdef0123456789abcdef", field: "description", value: .text(text),
               hlc: HLC(millis: 1_700_000_000_000 + millis, counter: 0, node: NodeID("be")!), author: "bench", base: base)
    }

    /// The median and slowest of `repeats` runs of `body`, in seconds, and what it returned.
    static func time(repeats: Int, _ body: () -> Bool) -> (median: Double, worst: Double, result: Bool) {
        var times: [Double] = []
        var result = false
        let clock = ContinuousClock()
        for _ in 0..<max(1, repeats) {
            let start = clock.now
            result = body()
            let elapsed = clock.now - start
            times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        times.sort()
        return (times[times.count / 2], times.last ?? 0, result)
    }
}
