import Foundation
import GRDB
import TestSupport
import Testing

/// Evidence files with the real programs, through the contract's commands: attach, sync, files, fetch,
/// extract, custody, verify; on both stores.
@Suite(.serialized) struct EvidenceFileTests {
    /// Several chunks (4 MiB each) and a short one.
    static let size = 2 * 4_194_304 + 300_001

    @Test(arguments: StoreKind.allCases) func attachSyncFetchExtractAndTheCustodyChain(store: StoreKind) throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        let id = try ana.add("incidents", ["title=Protest dispersed on Republic Square", "date=2022-01-05"])
        let video = try EvidenceFiles.random(Self.size, name: "square 0105.mp4", for: ana)
        let note = try ana.file("note.txt", "Filmed from the balcony of no. 12\n")
        let attached = try ana.ok("attach", String(id.prefix(8)), video.path, note, "--json").object()
        let listed = try #require(attached["files"] as? [[String: Any]])
        #expect(listed.map { $0["name"] as? String } == ["square 0105.mp4", "note.txt"])
        #expect(listed.first?["sha256"] as? String == video.sha256)
        #expect(listed.first?["size"] as? Int == Self.size)
        #expect(try ana.ok("show", id, "--json").object()["fields"].flatMap { ($0 as? [String: Any])?["evidence"] as? [String] }?.first == video.sha256)

        #expect(try ana.syncJSON()["uploaded"] as? Int == 2)
        #expect(try bek.syncJSON()["pulled"] as? Int == 3)
        let remote = try EvidenceFiles.files(bek, id)
        #expect(remote.count == 2)
        #expect(remote.allSatisfy { $0["local"] as? Bool == false && $0["addedBy"] as? String == "ana" })
        #expect(remote.first?["mime"] as? String == "video/mp4" && remote.first?["addedAt"] as? String != nil)

        let noteHash = try #require(listed.last?["sha256"] as? String)
        let fetched = try bek.ok("fetch", String(noteHash.prefix(9)), "--json").object()
        #expect(fetched["fetched"] as? Int == 1 && fetched["bytes"] as? Int == 34)
        #expect(try EvidenceFiles.files(bek, id).map { $0["local"] as? Bool } == [false, true])
        #expect(try bek.ok("sync", "--files", "--json").object()["downloaded"] as? Int == 1)
        #expect(try EvidenceFiles.files(bek, id).allSatisfy { $0["local"] as? Bool == true })
        #expect(try bek.ok("fetch", String(id.prefix(10)), "--json").object()["fetched"] as? Int == 0)
        let out = bek.home.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try bek.ok("extract", String(video.sha256.prefix(12)), "--to", out.path)
        #expect(try EvidenceFiles.sha256(out.appendingPathComponent("square 0105.mp4").path) == video.sha256)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["square 0105.mp4"])

        _ = try bek.syncJSON()
        _ = try ana.syncJSON()
        for person in [ana, bek] {
            let custody = try person.ok("custody", video.sha256, "--json").array()
            #expect(custody.map { $0["event"] as? String } == ["added", "received", "uploaded", "downloaded", "extracted"])
            #expect(custody.map { $0["by"] as? String } == ["ana", "ana", "ana", "bek", "bek"])
            let times = custody.compactMap { $0["at"] as? String }
            #expect(times.count == 5 && times == times.sorted())
            #expect(custody.first?["name"] as? String == "square 0105.mp4" && custody.first?["record"] as? String == id)
        }
        let verified = try bek.ok("verify", "--json").object()
        #expect(verified["files"] as? Int == 2 && (verified["failures"] as? [Any])?.isEmpty == true)
        #expect(try bek.ok("show", String(id.prefix(8))).stdout.contains("square 0105.mp4"))
    }

    @Test(arguments: StoreKind.allCases) func twoResearchersAttachTheSameFileAndItIsStoredAndSentOnce(store: StoreKind) async throws {
        let team = try Team.start(store: store)
        defer { team.cleanUp() }
        let ana = team["ana"], bek = team["bek"]
        let photo = try EvidenceFiles.random(5 * 4_194_304 + 7, name: "IMG_0412.jpg", for: ana)
        let copy = bek.home.appendingPathComponent("the same photo.jpg")
        try FileManager.default.copyItem(atPath: photo.path, toPath: copy.path)
        let first = try ana.add("incidents", ["title=Arrest at the bazaar"])
        let second = try bek.add("sources", ["title=Photo sent by a witness"])
        try ana.ok("attach", first, photo.path)
        try bek.ok("attach", second, copy.path)
        #expect(try ana.syncJSON()["uploaded"] as? Int == 1)
        #expect(try bek.syncJSON()["uploaded"] as? Int == 0)
        let status = try EvidenceFiles.status(team.server, token: try #require(team.tokens["bek"]), photo.sha256)
        #expect(status.complete && status.received == 5 * 4_194_304 + 7)
        if store == .sqlite {
            let folder = team.server.data.appendingPathComponent("files/kz")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0 != "partial" } == [photo.sha256])
        }
        _ = try ana.syncJSON()
        let events = try ana.ok("custody", photo.sha256, "--json").array().compactMap { $0["event"] as? String }
        #expect(events.filter { $0 == "added" }.count == 2 && events.filter { $0 == "received" }.count == 1)
    }

    @Test(arguments: StoreKind.allCases) func aClientKilledMidUploadAndMidDownloadCompletesWithNothingDuplicated(store: StoreKind) async throws {
        let server = try RunningServer(store: store)
        defer { server.cleanUp() }
        let tokens = try server.setUp(users: [("ana", "researcher"), ("bek", "researcher")])
        try server.start()
        // The replicas reach the server through a network of 8 MB/s, so that the kills land mid-transfer
        // whatever the machine's load.
        let proxy = try ChaosProxy(upstreamPort: Int(server.url.split(separator: ":").last ?? "0") ?? 0, seed: 16, passPercent: 100,
                                   bytesPerSecond: 8_000_000)
        defer { proxy.stop() }
        let ana = Researcher("ana"), bek = Researcher("bek"), token = try #require(tokens["ana"])
        defer { ana.cleanUp(); bek.cleanUp() }
        for person in [ana, bek] { try person.ok("init", "--server", "http://127.0.0.1:\(proxy.port)", "--project", "kz", "--token", tokens[person.name] ?? "") }
        let team = Team(server: server, people: [ana, bek], tokens: tokens)
        let chunks = 12, size = chunks * 4_194_304 - 1_000
        let recording = try EvidenceFiles.random(size, name: "hearing.m4a", for: ana)
        let id = try ana.add("incidents", ["title=Closed hearing"])
        try ana.ok("attach", id, recording.path)

        // Upload: killed once the server holds a random number of chunks.
        let killAt = Int64(Int.random(in: 1...(chunks - 4)) * 4_194_304)
        let upload = try EvidenceFiles.launch(ana, ["sync"])
        let reached = try EvidenceFiles.wait {
            try EvidenceFiles.status(team.server, token: token, recording.sha256).received >= killAt
        }
        kill(upload.processIdentifier, SIGKILL)
        upload.waitUntilExit()
        let held = try EvidenceFiles.status(team.server, token: token, recording.sha256)
        #expect(reached && !held.complete && held.received < Int64(size), "killed too late: \(held)")
        let resumed = try ana.syncJSON()
        #expect(resumed["uploaded"] as? Int == 1)
        #expect(try EvidenceFiles.status(team.server, token: token, recording.sha256).complete)
        if store == .sqlite {
            let folder = team.server.data.appendingPathComponent("files/kz")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0 != "partial" } == [recording.sha256])
            let partial = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("partial").path)) ?? []
            #expect(partial.isEmpty, "\(partial)")
        }

        // Download: killed once bek's replica stored a random number of chunks (each sealed chunk takes 4 MiB
        // and a disk block: its nonce and tag, padded).
        _ = try bek.syncJSON()
        let stopAt = Int.random(in: 1...(chunks - 4)) * (4_194_304 + 4_096)
        let download = try EvidenceFiles.launch(bek, ["fetch", "--all"])
        let stored = try EvidenceFiles.wait { EvidenceFiles.storedSize(bek, suffix: ".part") >= stopAt }
        kill(download.processIdentifier, SIGKILL)
        download.waitUntilExit()
        #expect(stored && EvidenceFiles.storedSize(bek, suffix: ".part") < size, "killed too late")
        let fetched = try bek.ok("fetch", "--all", "--json").object()
        #expect(fetched["fetched"] as? Int == 1)
        #expect((fetched["bytes"] as? Int ?? 0) < size, "the download started over instead of resuming: \(fetched)")
        let out = bek.home.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try bek.ok("extract", recording.sha256, "--to", out.path)
        #expect(try EvidenceFiles.sha256(out.appendingPathComponent("hearing.m4a").path) == recording.sha256)
        #expect(try bek.ok("verify", "--json").object()["files"] as? Int == 1)

        _ = try bek.syncJSON()
        _ = try ana.syncJSON()
        let events = try ana.ok("custody", recording.sha256, "--json").array().compactMap { $0["event"] as? String }
        #expect(events == ["added", "received", "uploaded", "downloaded", "extracted"])
    }
}
