import Foundation
import Testing
@testable import Client
@testable import Shared

/// `report --cycles` and the report as HTML and Markdown, on two real thematic lists of Slovenia's reviews
/// (UPR 34, cycle 3, and UPR 48, cycle 4; see Tests/Fixtures/README.md).
@Suite struct ReportPagesTests {
    /// Two reviews of Slovenia with their recommendations, imported from OHCHR's lists.
    func twoCycles() async throws -> TemporaryReplica {
        let local = try TemporaryReplica()
        let fixtures = UNImportTests.fixtures
        for (cycle, session, file) in [(3, "34", "ohchr-thematic-list-slovenia-upr34-extract.docx"), (4, "48", "ohchr-thematic-list-slovenia-upr48-extract.docx")] {
            let review = try local.write { editor, _ in
                try editor.add(collection: "reviews", values: ["state": .text("Slovenia"), "cycle": .integer(Int64(cycle)), "session": .text(session)])
            }
            var importer = CSVImporter(settings: local.settings, collection: "recommendations", path: fixtures.appendingPathComponent(file).path,
                                       skipInvalid: false, progress: ProgressLine(enabled: false))
            importer.review = review
            _ = try await importer.run(local.replica)
        }
        return local
    }

    /// What the state claims of 140.70 (the fourth cycle's defamation recommendation) and what an NGO found.
    func claimsAndFindings(_ local: TemporaryReplica) async throws {
        let views = try await local.replica.read { db in try ReplicaQuery.list(collection: "recommendations", filters: [], db) }
        let recommendation = try #require(views.first { $0.fields["paragraph"] == .text("140.70") }).id
        for (kind, assessor, status) in [("state", "Government of Slovenia", "implemented"), ("ngo", "A press freedom NGO", "not_implemented")] {
            _ = try local.write { editor, _ in
                try editor.add(collection: "assessments", values: ["recommendation": .reference(recommendation), "assessor_type": .text(kind),
                                                                   "assessor": .text(assessor), "status": .text(status), "date": .date("2026-06-01")])
            }
        }
    }

    @Test func aRecommendationMadeAgainInTheNextCycleIsFound() async throws {
        let local = try await twoCycles()
        defer { local.cleanUp() }
        let chains = try await local.replica.recurrences(roles: Schema.upr.report!)
        // The United Kingdom asked both times that defamation become a civil offence; nothing else repeats
        // between these two extracts (shared states, different texts).
        #expect(chains.count == 1)
        let chain = try #require(chains.first)
        #expect(chain.state == "Slovenia")
        #expect(chain.recommendingStates == ["United Kingdom of Great Britain and Northern Ireland"])
        #expect(chain.appearances.map(\.paragraph) == ["122.77", "140.70"])
        #expect(chain.appearances.map(\.cycle) == [3, 4])
        #expect(chain.appearances.map(\.response) == ["noted", "noted"])
    }

    @Test func similarityIsOfContentWords() {
        let a = TextSimilarity.words("Amend defamation legislation so that it is considered a civil, not criminal, offence")
        let b = TextSimilarity.words("Amend defamation legislation so that it is considered a civil, not a criminal, offence")
        let c = TextSimilarity.words("Increase the amount of humanitarian aid and development assistance")
        #expect(TextSimilarity.score(a, b) == 1)
        #expect(TextSimilarity.score(a, c) < TextSimilarity.threshold)
        #expect(TextSimilarity.score(TextSimilarity.words("Ratify the Optional Protocol to the Convention against Torture"),
                                     TextSimilarity.words("Consider ratifying the Optional Protocol to the Convention against Torture")) == 1)
    }

    @Test func theHTMLPageLoadsInARealBrowserWithoutErrorsAndShowsTheReportsFigures() async throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let chromium else {
            Issue.record("this test needs a headless browser: install Debian's chromium (apt-get install chromium)")
            return
        }
        let local = try await twoCycles()
        defer { local.cleanUp() }
        try await claimsAndFindings(local)
        let report = try await local.replica.report(roles: Schema.upr.report!, review: nil)
        let page = UPRReport.html(report, recurrences: try await local.replica.recurrences(roles: Schema.upr.report!))
        #expect(!page.contains("http://") && !page.contains("https://") && !page.contains("<script"))
        let file = local.home.appendingPathComponent("report.html")
        try Data(page.utf8).write(to: file)

        let browser = Process()
        browser.executableURL = URL(fileURLWithPath: chromium)
        browser.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(local.home.appendingPathComponent("profile").path)",
                             "--enable-logging=stderr", "--v=0", "--dump-dom", file.absoluteString]
        let output = Pipe(), errors = Pipe()
        browser.standardOutput = output
        browser.standardError = errors
        try browser.run()
        let dom = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        browser.waitUntilExit()
        #expect(browser.terminationStatus == 0)
        // The page has no script: any console message is an error the browser found in it.
        #expect(!log.contains(":CONSOLE"), "\(log.split(separator: "\n").filter { $0.contains(":CONSOLE") })")

        // The bars the browser parsed carry the same figures as `report --json`.
        for (id, counts) in [("byResponse", report.byResponse), ("byStatus", report.byStatus), ("byTheme", report.byTheme),
                             ("byRecommendingState", report.byRecommendingState)] {
            let start = try #require(dom.range(of: "<svg id=\"\(id)\""), "\(id)")
            let end = try #require(dom[start.upperBound...].range(of: "</svg>"), "\(id)")
            let chart = dom[start.lowerBound..<end.upperBound]
            var shown: [String: Int] = [:]
            for match in chart.matches(of: /data-key="([^"]*)" data-count="(\d+)"/) {
                shown[String(match.1).replacingOccurrences(of: "&amp;", with: "&")] = Int(match.2)
            }
            #expect(!shown.isEmpty, "\(id)")
            for (key, count) in shown { #expect(counts[key] == count, "\(id) \(key)") }
            #expect(shown.count == min(counts.count, 30), "\(id)")
        }
        #expect(dom.contains("data-count=\"\(report.recommendations)\""))
        // The state's claims beside the team's findings, for the review they belong to.
        let fourth = try #require(report.reviews.first { $0.cycle == 4 })
        #expect(fourth.stateClaims == ["implemented": 1] && fourth.ngoFindings == ["not_implemented": 1])
        #expect(dom.contains("The state's claims beside the team's findings: Slovenia, cycle 4"))
        #expect(dom.contains("<tr><td>implemented</td><td>1</td><td>0</td></tr>") && dom.contains("<tr><td>not_implemented</td><td>0</td><td>1</td></tr>"))

        #expect(FileManager.default.fileExists(atPath: try screenshot(file, with: chromium, profile: local.home.appendingPathComponent("profile")).path))
        #expect(dom.contains("122.77") && dom.contains("140.70"))
    }

    /// A picture of the page for people to look at, outside the repository.
    func screenshot(_ file: URL, with chromium: String, profile: URL) throws -> URL {
        let shot = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-report.png")
        let camera = Process()
        camera.executableURL = URL(fileURLWithPath: chromium)
        camera.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile.path)",
                            "--hide-scrollbars", "--window-size=1100,2400", "--screenshot=\(shot.path)", file.absoluteString]
        camera.standardOutput = FileHandle.nullDevice
        camera.standardError = FileHandle.nullDevice
        try camera.run()
        camera.waitUntilExit()
        return shot
    }

    @Test func theMarkdownReportHasEveryCount() async throws {
        let local = try await twoCycles()
        defer { local.cleanUp() }
        try await claimsAndFindings(local)
        let report = try await local.replica.report(roles: Schema.upr.report!, review: nil)
        let markdown = UPRReport.markdown(report)
        #expect(markdown.contains("\(report.recommendations) recommendations from \(report.recommendingStates) states"))
        for (response, count) in report.byResponse { #expect(markdown.contains("| \(response) | \(count) |")) }
        for (status, count) in report.byStatus { #expect(markdown.contains("| \(status) | \(count) |")) }
        #expect(markdown.contains("## Claims and findings: Slovenia, cycle 4"))
        #expect(markdown.contains("| implemented | 1 | 0 |") && markdown.contains("| not_implemented | 0 | 1 |"))
        #expect(UPRReport.markdown(recurrences: try await local.replica.recurrences(roles: Schema.upr.report!)).contains("| 4 | 140.70 | noted |"))
    }
}
