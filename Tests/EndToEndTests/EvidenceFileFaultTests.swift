import Foundation
import TestSupport
import Testing

/// Evidence files meeting bad input and damage, with the real programs: refused with one line and
/// nothing stored, never written outside the folder named, never sent or extracted when damaged.
@Suite(.serialized) struct EvidenceFileFaultTests {
    @Test func badInputIsRefusedWithOneLineAndNothingIsStored() throws {
        let team = try Team.start([("ana", "researcher")])
        defer { team.cleanUp() }
        let ana = team["ana"]
        let id = try ana.add("incidents", ["title=Bad input"])
        let good = try ana.file("good.jpg", "jpeg bytes")
        let refusals: [([String], Int32, String)] = [
            (["attach", id, ana.home.path], 1, "is a folder"),
            (["attach", id, good, ana.home.appendingPathComponent("missing.pdf").path], 1, "does not exist"),
            (["attach", id, "/dev/null"], 1, "not a regular file"),
            (["attach", "ffffffffff", good], 1, "no record"),
            (["attach", id, good, "--field", "title"], 1, "does not hold files"),
            (["attach", id, good, "--field", "nonsense"], 1, "has no field"),
            (["attach", id], 64, ""),
            (["fetch"], 64, ""),
            (["fetch", id, "--all"], 64, ""),
            (["extract", "abc", "--to", ana.home.path], 1, "too short"),
            (["extract", "zzzzzzzz", "--to", ana.home.path], 1, "not a valid"),
            (["custody", "0123456789"], 1, "no file known"),
            (["files", "0123456789"], 1, "no record"),
        ]
        for (arguments, code, message) in refusals {
            let result = try Programs.run("casebook", arguments + ["--home", ana.home.path])
            #expect(result.code == code, "casebook \(arguments.joined(separator: " ")): \(result.stderr)")
            #expect(message.isEmpty || result.stderr.contains(message), "casebook \(arguments.joined(separator: " ")): \(result.stderr)")
            if code == 1 { #expect(result.stderr.hasPrefix("error: ") && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)") }
        }
        #expect(try EvidenceFiles.files(ana, id).isEmpty)
        #expect(try ana.ok("status", "--json").object()["pending"] as? Int == 1)
        let stored = (try? FileManager.default.contentsOfDirectory(atPath: ana.home.appendingPathComponent("sealed").path)) ?? []
        #expect(stored.isEmpty, "\(stored)")

        // Extract stays inside --to, whatever name it is given, and keeps an existing file.
        try ana.ok("attach", id, good)
        let sha256 = try #require(try EvidenceFiles.files(ana, id).first?["sha256"] as? String)
        let out = ana.home.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try ana.ok("extract", sha256, "--to", out.path, "--as", "../../escaped.jpg")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["escaped.jpg"])
        let again = try ana.run("extract", sha256, "--to", out.path, "--as", "escaped.jpg")
        #expect(again.code == 1 && again.stderr.contains("exists already"))
        try ana.ok("extract", sha256, "--to", out.path, "--as", "escaped.jpg", "--overwrite")
        #expect(try String(contentsOf: out.appendingPathComponent("escaped.jpg"), encoding: .utf8) == "jpeg bytes")
    }

    @Test(arguments: StoreKind.allCases) func aTamperedChunkIsFoundAndNeverSentOrExtracted(store: StoreKind) async throws {
        let team = try Team.start([("ana", "researcher")], store: store)
        defer { team.cleanUp() }
        let ana = team["ana"]
        let id = try ana.add("incidents", ["title=Tampered"])
        let file = try EvidenceFiles.random(3 * 4_194_304, name: "scan.pdf", for: ana)
        try ana.ok("attach", id, file.path)
        #expect(try ana.ok("verify", "--json").object()["files"] as? Int == 1)

        // One byte of the second chunk changes on disk: it starts at 4 MiB + 4 KiB (a sealed chunk,
        // nonce and tag included, padded to the next disk block).
        let folder = ana.home.appendingPathComponent("sealed")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).first)
        let handle = try FileHandle(forUpdating: folder.appendingPathComponent(name))
        try handle.seek(toOffset: UInt64(4_194_304 + 4_096 + 1_000))
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: UInt64(4_194_304 + 4_096 + 1_000))
        try handle.write(contentsOf: Data([byte ^ 0x20]))
        try handle.close()

        let verified = try ana.run("verify", "--json")
        #expect(verified.code == 1)
        let failures = try #require(try verified.object()["failures"] as? [[String: Any]])
        #expect(failures.count == 1 && failures.first?["what"] as? String == "file" && failures.first?["id"] as? String == file.sha256)
        #expect((failures.first?["reason"] as? String)?.contains("chunk 1") == true)

        let synced = try ana.run("sync", "--json")
        #expect(synced.code == 1 && synced.stderr.contains("damaged"), "\(synced.stderr)")
        let status = try EvidenceFiles.status(team.server, token: try #require(team.tokens["ana"]), file.sha256)
        #expect(!status.complete)
        let out = ana.home.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let extracted = try ana.run("extract", file.sha256, "--to", out.path)
        #expect(extracted.code == 1 && extracted.stderr.contains("damaged"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }
}
