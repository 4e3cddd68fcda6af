import Foundation
import Testing

@Suite(.serialized) struct DemoTests {
    /// The README's demo runs start to finish and shows the seed's figures.
    @Test func theDemoRunsAndPrintsTheReport() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/demo.sh").standardized
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path, Programs.products.path]
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-demo-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        let text = try String(contentsOf: output, encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("294 recommendations from 103 states"))
        #expect(text.contains("214 recommendations from"))
        #expect(text.contains("195  implemented"))
        #expect(text.contains("19  ongoing"))
        #expect(text.contains("both replicas hold the same records"))
        #expect(text.contains("1 open conflict"))
    }
}
