import Foundation
import Testing
@testable import Client
@testable import Shared

/// `extract` writes the original bytes into the folder named, never anywhere else, never over an
/// existing file unless asked, and never a file that fails its hash.
@Suite struct FileExtractTests {
    struct Setup {
        let local: TemporaryReplica
        let bytes: [UInt8]
        let sha256: String
        let out: URL

        init(name: String = "photo 0412.jpg") throws {
            local = try TemporaryReplica(onDisk: true)
            bytes = EvidenceFixtures.bytes(Wire.Files.chunkSize + 10, marker: "extract")
            sha256 = FakeFileServer.hash(bytes)
            let id = try local.add(["title": .text("Extracted")])
            _ = try local.replica.attach(id, field: nil, paths: [try EvidenceFixtures.file(name, bytes)], settings: local.settings)
            out = VaultFixtures.home("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        }

        func extract(as name: String? = nil, overwrite: Bool = false) async throws -> URL {
            try await local.replica.extract(String(sha256.prefix(8)), to: out, as: name, overwrite: overwrite, settings: local.settings)
        }

        func cleanUp() {
            local.cleanUp()
            try? FileManager.default.removeItem(at: out)
        }
    }

    @Test func extractWritesTheOriginalBytesUnderTheAttachedNameAndLogsIt() async throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let written = try await setup.extract()
        #expect(written.path == setup.out.appendingPathComponent("photo 0412.jpg").path)
        #expect(try Data(contentsOf: written) == Data(setup.bytes))
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.out.path) == ["photo 0412.jpg"])
        let events = try await setup.local.replica.custody(of: setup.sha256).events
        #expect(events.map(\.event) == [.added, .extracted])
        #expect(events.last?.by == "ana" && events.last?.name == nil)
    }

    @Test func anExistingFileIsKeptUnlessOverwriteIsGiven() async throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let target = setup.out.appendingPathComponent("photo 0412.jpg")
        try Data("mine".utf8).write(to: target)
        await #expect { try await setup.extract() } throws: { ($0 as? ClientError)?.message.contains("exists already") == true }
        #expect(try Data(contentsOf: target) == Data("mine".utf8))
        _ = try await setup.extract(overwrite: true)
        #expect(try Data(contentsOf: target) == Data(setup.bytes))
        #expect(try await setup.extract(as: "other.jpg").lastPathComponent == "other.jpg")
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.out.path).sorted() == ["other.jpg", "photo 0412.jpg"])
    }

    @Test func nothingIsWrittenOutsideTheFolder() async throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let outside = VaultFixtures.home("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        // A name that climbs out is reduced to its last component.
        #expect(try await setup.extract(as: "../../\(outside.lastPathComponent)/x.jpg").path == setup.out.appendingPathComponent("x.jpg").path)
        // A link planted under the target's name is neither followed nor written through.
        let victim = outside.appendingPathComponent("victim")
        try Data("untouched".utf8).write(to: victim)
        try FileManager.default.createSymbolicLink(atPath: setup.out.appendingPathComponent("y.jpg").path, withDestinationPath: victim.path)
        await #expect { try await setup.extract(as: "y.jpg") } throws: { ($0 as? ClientError)?.message.contains("exists already") == true }
        _ = try await setup.extract(as: "y.jpg", overwrite: true)
        #expect(try Data(contentsOf: victim) == Data("untouched".utf8))
        let kind = try FileManager.default.attributesOfItem(atPath: setup.out.appendingPathComponent("y.jpg").path)[.type] as? FileAttributeType
        #expect(kind == .typeRegular)
        #expect(try Data(contentsOf: setup.out.appendingPathComponent("y.jpg")) == Data(setup.bytes))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path) == ["victim"])
    }

    @Test func aDamagedFileIsNotExtracted() async throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let handle = try FileHandle(forUpdating: setup.local.replica.files.url(setup.sha256))
        try handle.seek(toOffset: 100)
        try handle.write(contentsOf: Data([0, 1, 2]))
        try handle.close()
        await #expect { try await setup.extract() } throws: { ($0 as? StoredFile.Damaged) != nil }
        #expect(try FileManager.default.contentsOfDirectory(atPath: setup.out.path).isEmpty)
    }

    @Test func aMissingFolderOrAFileNotHereIsRefused() async throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        await #expect { try await setup.local.replica.extract(setup.sha256, to: setup.out.appendingPathComponent("nope"), as: nil, overwrite: false,
                                                              settings: setup.local.settings) } throws: {
            ($0 as? ClientError)?.message.contains("does not exist") == true
        }
        await #expect { try await setup.local.replica.extract("abcdef", to: setup.out, as: nil, overwrite: false, settings: setup.local.settings) } throws: {
            ($0 as? ClientError)?.message.contains("no file known") == true
        }
    }
}
