import Foundation
import Testing
@testable import Client

/// Issue 14, item 13: a hostile CSV (one row of 30 MB of commas, a huge cell) is refused early,
/// while it is read, with an error naming the line; ordinary large cells still pass.
@Suite struct CSVBoundsTests {
    /// Writes `header` and then `body` (a closure writing chunks), returns the path.
    func file(_ write: (FileHandle) throws -> Void) throws -> URL {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-hostile-\(UUID().uuidString).csv")
        FileManager.default.createFile(atPath: path.path, contents: Data("title,description\n".utf8))
        let handle = try FileHandle(forWritingTo: path)
        try handle.seekToEnd()
        try write(handle)
        try handle.close()
        return path
    }

    func repeated(_ byte: String, megabytes: Int, to handle: FileHandle) throws {
        let chunk = Data(String(repeating: byte, count: 1 << 20).utf8)
        for _ in 0..<megabytes { try handle.write(contentsOf: chunk) }
    }

    /// Reads every record; the error it stops with and how many bytes it had read by then.
    func read(_ path: URL) throws -> (error: CSVReader.Malformed?, bytesRead: Int, records: Int) {
        var reader = try CSVReader(path: path.path)
        var records = 0
        do {
            while try reader.next() != nil { records += 1 }
        } catch let error as CSVReader.Malformed {
            return (error, reader.bytesRead, records)
        }
        return (nil, reader.bytesRead, records)
    }

    @Test func aRowOfThirtyMegabytesOfCommasIsRefusedEarly() throws {
        let path = try file { try repeated(",", megabytes: 30, to: $0) }
        defer { try? FileManager.default.removeItem(at: path) }
        let result = try read(path)
        let error = try #require(result.error)
        #expect(error.line == 2)
        #expect(error.message.contains("more than 10,000 columns"), "\(error.message)")
        #expect(result.bytesRead < 1 << 20, "read \(result.bytesRead) bytes before refusing")
    }

    @Test(arguments: [false, true])
    func aHugeCellIsRefusedEarly(quoted: Bool) throws {
        let path = try file { handle in
            try handle.write(contentsOf: Data((quoted ? "t,\"" : "t,").utf8))
            try repeated("x", megabytes: 40, to: handle)
            try handle.write(contentsOf: Data((quoted ? "\"\n" : "\n").utf8))
        }
        defer { try? FileManager.default.removeItem(at: path) }
        let result = try read(path)
        let error = try #require(result.error)
        #expect(error.line == 2)
        #expect(error.message.contains("column 2 is longer than 8 MiB"), "\(error.message)")
        #expect(result.bytesRead < 10 << 20, "read \(result.bytesRead) bytes before refusing")
    }

    @Test func aLongButOrdinaryCellPasses() throws {
        let path = try file { handle in
            try handle.write(contentsOf: Data("t,".utf8))
            try repeated("ж", megabytes: 2, to: handle)  // 4 MB: a million Cyrillic letters
            try handle.write(contentsOf: Data("\n".utf8))
        }
        defer { try? FileManager.default.removeItem(at: path) }
        let result = try read(path)
        #expect(result.error == nil)
        #expect(result.records == 2)
    }
}
