import Foundation
import Testing

/// `resolve` without a choice, on a terminal, asks which value to keep.
@Suite(.serialized) struct InteractiveResolveTests {
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
        let conflict = try #require(try bek.conflicts().first?["id"] as? String)

        // `script` gives the command a terminal; its input is the person's typing: a wrong answer, then 2.
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-typing-\(UUID().uuidString)")
        try Data("7\n2\n".utf8).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let command = "\(Programs.products.appendingPathComponent("casebook").path) resolve \(conflict) --home \(bek.home.path)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        process.standardInput = try FileHandle(forReadingFrom: input)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("keep which value? [1-2"))
        #expect(text.contains("type a number from 1 to 2"))
        #expect(text.contains("resolved \(conflict)"))
        #expect(try bek.conflicts().isEmpty)
        let chosen = try bek.ok("show", id, "--json").object()["fields"] as? [String: Any]
        #expect(["confirmed", "doubtful"].contains(chosen?["reliability"] as? String ?? ""))
    }
}
