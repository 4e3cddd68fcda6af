import Foundation
import Testing

/// What only happens on a terminal: `resolve` asking which value to keep, and progress lines.
@Suite(.serialized) struct TerminalTests {
    @Test func resolveAsksOnATerminal() throws {
        let team = try Team.start()
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        let id = try ana.add("sources", ["title=Interview 1"])
        _ = try ana.syncJSON()
        _ = try bek.syncJSON()
        try ana.ok("edit", id, "--set", "reliability=confirmed")
        try bek.ok("edit", id, "--set", "reliability=doubtful")
        _ = try ana.syncJSON()
        _ = try bek.syncJSON()
        let open = try #require(try bek.conflicts().first)
        let conflict = try #require(open["id"] as? String)
        // The choices, numbered in the order `conflicts` lists them (provisional winner first).
        let values = (open["values"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String }
        #expect(Set(values) == ["confirmed", "doubtful"] && values.count == 2, "\(values)")

        // `script` gives the command a terminal; its input is the person's typing: a wrong answer, then 2.
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-typing-\(UUID().uuidString)")
        try Data("7\n2\n".utf8).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let (status, text) = try Self.onTerminal(["resolve", conflict, "--home", bek.home.path], input: try FileHandle(forReadingFrom: input))
        #expect(status == 0, "\(text)")
        #expect(text.contains("keep which value? [1-2"))
        #expect(text.contains("2. \(values.last ?? "?")"), "\(text)")
        #expect(text.contains("type a number from 1 to 2"))
        #expect(text.contains("resolved \(conflict)"))
        #expect(try bek.conflicts().isEmpty)
        let chosen = try bek.ok("show", id, "--json").object()["fields"] as? [String: Any]
        // The person typed 2: the second value listed is kept, not the other.
        #expect(chosen?["reliability"] as? String == values.last)
    }

    /// A long operation shows progress on a terminal, and nothing of it when output is a file.
    @Test func syncShowsProgressOnATerminalOnly() throws {
        let team = try Team.start()
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        var csv = "title,location\n"
        for i in 0..<2_000 { csv += "Incident \(i),Astana\n" }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-progress-\(UUID().uuidString).csv")
        try Data(csv.utf8).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        try ana.ok("import", "incidents", path.path)

        let (status, text) = try Self.onTerminal(["sync", "--batch-size", "500", "--home", ana.home.path], input: FileHandle.nullDevice)
        #expect(status == 0, "\(text)")
        #expect(text.contains("pushing changes"), "\(text)")
        #expect(text.contains("\r"))

        // Not a terminal: no progress lines, only the summary.
        let plain = try bek.ok("sync")
        #expect(!plain.stderr.contains("pulling changes") && !plain.stderr.contains("receiving current records"))
        #expect(!plain.stderr.contains("\r"))
        #expect(plain.stdout.contains("pulled 4000"))
    }

    /// Moving a file's content shows bytes done, of how many (and the rate and time left once measured) on a terminal.
    @Test func fileTransfersShowProgressOnATerminal() throws {
        let team = try Team.start()
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        let id = try ana.add("incidents", ["title=Progress"])
        let file = try EvidenceFiles.random(3 * 4_194_304 + 1_000, name: "film.mp4", for: ana)
        try ana.ok("attach", id, file.path)
        let (status, text) = try Self.onTerminal(["sync", "--home", ana.home.path], input: FileHandle.nullDevice)
        #expect(status == 0, "\(text)")
        #expect(text.contains("uploading 1 file: ") && text.contains(" of 12.6 MB"), "\(text)")
        _ = try bek.syncJSON()
        let (fetched, shown) = try Self.onTerminal(["fetch", "--all", "--home", bek.home.path], input: FileHandle.nullDevice)
        #expect(fetched == 0, "\(shown)")
        #expect(shown.contains("fetching 1 file: ") && shown.contains(" of 12.6 MB") && shown.contains("fetched 1 file"), "\(shown)")
        // Not a terminal: no progress.
        #expect(!(try bek.ok("fetch", "--all").stderr.contains("fetching")))
    }

    /// Runs `casebook` with `arguments` on a terminal (`script` gives it one), `input` as the typing;
    /// its exit status and everything it printed.
    private static func onTerminal(_ arguments: [String], input: FileHandle) throws -> (status: Int32, text: String) {
        let command = ([Programs.products.appendingPathComponent("casebook").path] + arguments).joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.environment = Programs.environment()
        process.arguments = ["-qec", command, "/dev/null"]
        process.standardInput = input
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
