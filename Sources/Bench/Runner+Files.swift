import Foundation
import Shared

/// The evidence-files phases: attaching, uploading and downloading one large file, each run beside
/// `cp` and `sha256sum` of the same file, and a sync with nothing to move in a replica holding many
/// attachments, counted in requests the server logged.
extension Runner {
    /// What one run of attach, upload and download measured.
    private struct FileRun {
        var attach: Processes.Result
        var upload: Processes.Result
        var download: Processes.Result
        /// Client peak RSS above its idle size, for each.
        var clientAboveIdle: [Int]
        /// Server peak RSS above its size before each transfer.
        var serverAboveIdle: [Int]
    }

    mutating func filePhases(size: Int, runs: Int, attachments: Int) throws -> [FileRow] {
        let source = work.appendingPathComponent("evidence-\(size).bin")
        try Self.writeRandomFile(source, size: size)
        defer { try? FileManager.default.removeItem(at: source) }
        var cp = FileRow(phase: "`cp` of the file (baseline)", bytes: size, note: "page cache to page cache, after an untimed copy: nothing reaches the disk in its time")
        var durable = FileRow(phase: "`cp` then `sync` of the copy (baseline)", bytes: size, note: "the copy flushed to disk, as a store must")
        var hash = FileRow(phase: "`sha256sum` of the file (baseline)", bytes: size)
        var attach = FileRow(phase: "attach (hash, encrypt, store)", bytes: size,
                             note: "`casebook attach`, process start to exit; two passes over the file, written past the page cache, flushed")
        var upload = FileRow(phase: "upload (`casebook sync`)", bytes: size, note: "whole sync process, loopback; three chunks on their way, the server writes them past the page cache and flushes every 64 MiB and at the end")
        var download = FileRow(phase: "download (`casebook fetch --all`)", bytes: size,
                               note: "whole fetch process, loopback, each chunk and the whole file checked, flushed")
        for _ in 0..<runs {
            cp.seconds.append(try Self.copySeconds(source, to: work.appendingPathComponent("copy.bin")))
            durable.seconds.append(try Self.copySeconds(source, to: work.appendingPathComponent("copy.bin"), flushed: true))
            hash.seconds.append(try Processes.run(URL(fileURLWithPath: "/usr/bin/sha256sum"), [source.path]).seconds)
            let run = try fileRun(source, size: size)
            attach.seconds.append(run.attach.seconds)
            upload.seconds.append(run.upload.seconds)
            download.seconds.append(run.download.seconds)
            attach.clientRSS.append(run.clientAboveIdle[0])
            upload.clientRSS.append(run.clientAboveIdle[1])
            download.clientRSS.append(run.clientAboveIdle[2])
            upload.serverRSS.append(run.serverAboveIdle[0])
            download.serverRSS.append(run.serverAboveIdle[1])
        }
        attach.baselines = [("sha256sum", hash.seconds)]
        upload.baselines = [("cp", cp.seconds), ("cp+sync", durable.seconds)]
        download.baselines = upload.baselines
        return [cp, durable, hash, attach, upload, download, try noopSync(attachments: attachments)]
    }

    /// A fresh server and two replicas: one attaches the file and syncs it up, the other fetches it.
    private mutating func fileRun(_ source: URL, size: Int) throws -> FileRun {
        let (server, token) = try freshServer(schema: .upr)
        defer { server.stop() }
        let writer = try replica(server, token: token)
        let id = try casebook(writer, ["add", "incidents", "--set", "title=Evidence benchmark"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let writerIdle = try casebook(writer, ["status"]).peakRSS
        let attach = try casebook(writer, ["attach", id, source.path])
        let serverBeforeUpload = Processes.rss(pid: server.pid) ?? 0
        Processes.resetPeakRSS(pid: server.pid)
        let upload = try casebook(writer, ["sync", "--json"])
        let serverUpload = Processes.peakRSS(pid: server.pid) ?? 0

        let reader = try replica(server, token: token)
        _ = try casebook(reader, ["sync"])
        let readerIdle = try casebook(reader, ["status"]).peakRSS
        let serverBeforeDownload = Processes.rss(pid: server.pid) ?? 0
        Processes.resetPeakRSS(pid: server.pid)
        let download = try casebook(reader, ["fetch", "--all", "--json"])
        let serverDownload = Processes.peakRSS(pid: server.pid) ?? 0
        guard download.stdout.contains("\"fetched\":1") else { throw BenchError("the fetch did not bring the file: \(download.stdout)") }
        return FileRun(attach: attach, upload: upload, download: download,
                       clientAboveIdle: [attach.peakRSS - writerIdle, upload.peakRSS - writerIdle, download.peakRSS - readerIdle],
                       serverAboveIdle: [serverUpload - serverBeforeUpload, serverDownload - serverBeforeDownload])
    }

    /// A replica with `count` small attachments (100 a record), all uploaded; then syncs with nothing to
    /// move, each timed and counted in the requests the server logged.
    private mutating func noopSync(attachments count: Int) throws -> FileRow {
        let log = work.appendingPathComponent("requests-\(count).log")
        let (server, token) = try freshServer(schema: .upr, requestLog: log)
        defer { server.stop() }
        let home = try replica(server, token: token)
        let folder = work.appendingPathComponent("attachments-\(count)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for start in stride(from: 0, to: count, by: 100) {
            let paths = try (start..<min(start + 100, count)).map { index -> String in
                let url = folder.appendingPathComponent("photo-\(index).jpg")
                try Data("attachment \(index) of the no-op benchmark\n".utf8).write(to: url)
                return url.path
            }
            let id = try casebook(home, ["add", "incidents", "--set", "title=Attachments from \(start)"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try casebook(home, ["attach", id] + paths)
        }
        let first = try casebook(home, ["sync", "--json"])
        _ = try casebook(home, ["sync"])  // the custody events of the first sync come back once
        var row = FileRow(phase: "no-op sync, \(count.formatted()) attachments", bytes: 0)
        var requests: [Int] = []
        for _ in 0..<5 {
            let before = try Self.requestCount(log)
            row.seconds.append(try casebook(home, ["sync"]).seconds)
            usleep(100_000)  // the log line is written as the request arrives; leave it time to land
            requests.append(try Self.requestCount(log) - before)
        }
        row.note = "requests per sync (server log): \(requests.map(String.init).joined(separator: ", ")); "
            + String(format: "the sync that uploaded them took %.1f s", first.seconds)
        return row
    }

    /// The requests a server logged so far.
    static func requestCount(_ log: URL) throws -> Int {
        try String(contentsOf: log, encoding: .utf8).components(separatedBy: "hb.request.path=").count - 1
    }

    /// `cp` of the file into `copy` (removed afterwards), timed; `flushed`: then `sync` of the copy (its data on disk).
    /// The time of `cp` (then `sync` of the copy when `flushed`) at its best: a first copy, not timed and
    /// removed, takes the pages the kernel hands out fresh (on this project's virtual machines that cost
    /// 3 to 10 times the copy itself: `cp` of 1 GiB took 0.3 s or 2.6-4.2 s); the timed copy reuses them.
    private static func copySeconds(_ source: URL, to copy: URL, flushed: Bool = false) throws -> Double {
        try? FileManager.default.removeItem(at: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        let warm = try Processes.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "cp '\(source.path)' '\(copy.path)' && rm '\(copy.path)'"])
        guard warm.code == 0 else { throw BenchError("cp failed: \(warm.stderr)") }
        let command = "cp '\(source.path)' '\(copy.path)'" + (flushed ? " && sync '\(copy.path)'" : "")
        let result = try Processes.run(URL(fileURLWithPath: "/bin/sh"), ["-c", command])
        guard result.code == 0 else { throw BenchError("cp failed: \(result.stderr)") }
        return result.seconds
    }

    /// `size` bytes that do not compress, written in 8 MiB blocks.
    static func writeRandomFile(_ url: URL, size: Int) throws {
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var generator = SplitMix64(seed: 2026)
        var written = 0
        var block = [UInt8](repeating: 0, count: 8 << 20)
        while written < size {
            let count = min(block.count, size - written)
            block.withUnsafeMutableBytes { raw in
                for offset in stride(from: 0, to: raw.count - 7, by: 8) { raw.storeBytes(of: generator.next(), toByteOffset: offset, as: UInt64.self) }
            }
            try handle.write(contentsOf: block[0..<count])
            written += count
        }
        try handle.synchronize()
    }
}
