import Foundation
import Testing
@testable import Server

/// Issue 23: `casebook-server doctor` checks a deployment and says what to fix: the data folder and
/// its files, the disk, the TLS files and the clock (the store: `DoctorStoreTests`).
@Suite struct DoctorTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casebook-doctor-\(UUID().uuidString)")

    func makeFolder(mode: Int16 = 0o700) throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: folder.path)
        return folder
    }

    func statuses(_ findings: [DoctorFinding]) -> [DoctorFinding.Status] { findings.map(\.status) }

    @Test func aMissingDataFolderFailsAndSaysHowToCreateIt() {
        let findings = Doctor.checkDataFolder(folder)
        #expect(statuses(findings) == [.failed])
        #expect(findings[0].message.contains("does not exist: create it (install -d"))
    }

    @Test func aFolderOnlyItsOwnerCanEnterPasses() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let findings = Doctor.checkDataFolder(try makeFolder())
        #expect(statuses(findings) == [.ok])
        #expect(findings[0].message.contains("mode 0700"))
    }

    @Test func aFolderOthersCanLookIntoWarnsAndOneTheyCanWriteFails() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let readable = Doctor.checkDataFolder(try makeFolder(mode: 0o755))
        #expect(statuses(readable) == [.warning])
        #expect(readable[0].message.contains("chmod 700"))
        let writable = Doctor.checkDataFolder(try makeFolder(mode: 0o777))
        #expect(statuses(writable) == [.failed])
        #expect(writable[0].message.contains("every user can write"))
    }

    @Test func storeFilesOthersCanReadFail() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try makeFolder().appendingPathComponent("casebook.sqlite").path
        FileManager.default.createFile(atPath: database, contents: Data(), attributes: [.posixPermissions: 0o644])
        let findings = Doctor.checkDataFolder(folder)
        #expect(statuses(findings) == [.failed])
        #expect(findings[0].message.contains("chmod 600 \(database)"))
    }

    @Test(.enabled(if: geteuid() == 0, "changing a file's owner needs root"))
    func aStoreFileOfAnotherUserFailsNamingTheFix() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let wal = try makeFolder().appendingPathComponent("casebook.sqlite-wal").path
        FileManager.default.createFile(atPath: wal, contents: Data(), attributes: [.posixPermissions: 0o600])
        #expect(chown(wal, 65534, 65534) == 0)
        let findings = Doctor.checkDataFolder(folder)
        #expect(statuses(findings) == [.failed])
        #expect(findings[0].message.contains("cannot write it"))
        #expect(findings[0].message.contains("chown root \(wal)"))
    }

    @Test func diskSpaceFailsBelow256MiBAndWarnsBelow1GiBOrTenPercent() {
        let gib: UInt64 = 1 << 30
        #expect(Doctor.diskSpace(free: 100 << 20, total: 100 * gib, path: "/").status == .failed)
        #expect(Doctor.diskSpace(free: 900 << 20, total: 2 * gib, path: "/").status == .warning)
        #expect(Doctor.diskSpace(free: 5 * gib, total: 100 * gib, path: "/").status == .warning)
        let plenty = Doctor.diskSpace(free: 40 * gib, total: 100 * gib, path: "/srv")
        #expect(plenty.status == .ok)
        #expect(plenty.message == "40.0 GiB free of 100.0 GiB (40 %) on the disk of /srv")
    }

    @Test func theDiskOfAFolderNotMadeYetIsItsParents() {
        let findings = Doctor.checkDiskSpace(at: folder.appendingPathComponent("not/yet"))
        #expect(findings.count == 1)
        #expect(findings[0].message.contains("on the disk of \(FileManager.default.temporaryDirectory.path)"))
    }

    @Test func aClockBeforeThisReleaseFailsAndSynchronisationIsReported() {
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        #expect(statuses(Doctor.checkClock(now: Date(timeIntervalSince1970: 0), sync: .synchronised)) == [.failed])
        #expect(statuses(Doctor.checkClock(now: now, sync: .synchronised)) == [.ok])
        let drifting = Doctor.checkClock(now: now, sync: .notSynchronised)
        #expect(statuses(drifting) == [.warning])
        #expect(drifting[0].message.contains("timedatectl set-ntp true"))
        let unknown = Doctor.checkClock(now: now, sync: .unknown("timedatectl is not installed"))
        #expect(statuses(unknown) == [.note])
        #expect(unknown[0].message.contains("timedatectl is not installed"))
    }
}
