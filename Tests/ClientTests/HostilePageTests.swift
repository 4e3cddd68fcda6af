import Foundation
import GRDB
import Testing
@testable import Client
@testable import Shared

/// Issue 14, item 8: the client holds what it pulls to what the server holds pushes to, refuses a
/// bad page whole (nothing of it applied, the cursor and the clock unmoved), and shows control
/// characters visibly on a terminal.
@Suite struct HostilePageTests {
    static let other = NodeID("00000000000000b2")!
    static let record = String(format: "%032x", 7)

    func change(_ field: String = "title", _ value: FieldValue = .text("Protest"), collection: String = "incidents",
                record: String = HostilePageTests.record, millis: UInt64 = HostileServer.now - 1_000, counter: UInt16 = 0) -> Wire.LoggedChange {
        let hlc = HLC(millis: millis, counter: counter, node: Self.other)
        return Wire.LoggedChange(seq: 1, change: Change(collection: collection, record: record, field: field, value: value, hlc: hlc,
                                                        author: "bek", base: nil), receivedAt: HostileServer.now)
    }

    /// Syncs a replica whose snapshot is done against a server whose one log page holds `changes`.
    func sync(_ changes: [Wire.LoggedChange]) async throws -> (error: ClientError?, stored: Int, cursor: String?, clock: String?, values: [String]) {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        try await local.replica.write { db in try Setting.set(.snapshotDone, "1", db) }
        let numbered = changes.enumerated().map { var logged = $0.element; logged.seq = Int64($0.offset + 1); return logged }
        let server = HostileServer(pull: { _ in
            Wire.PullResponse(changes: numbered, cursor: Int64(numbered.count), more: false, latest: Int64(numbered.count), serverTime: HostileServer.now)
        })
        let syncer = Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
        var failure: ClientError?
        do { _ = try await syncer.run() } catch let error as ClientError { failure = error }
        let (stored, cursor, clock, values) = try await local.replica.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change") ?? 0, try Setting.get(.cursor, db), try Setting.get(.clock, db),
             try String.fetchAll(db, sql: "SELECT field || '=' || value FROM change ORDER BY hlc"))
        }
        return (failure, stored, cursor, clock, values)
    }

    @Test func aGoodPageIsApplied() async throws {
        let result = try await sync([change(), change("location", .text("Astana"), counter: 1)])
        #expect(result.error == nil)
        #expect(result.stored == 2 && result.cursor == "2")
        // Each change stored with its own value (the stored forms are made beside the apply: `FetchedPage`).
        #expect(result.values == ["title=t:Protest", "location=t:Astana"])
    }

    @Test(arguments: [
        ("a field not in the schema", "unknown field 'secret'"),
        ("a value of the wrong type", "is of type text, not"),
        ("a record id that is a path", "not a record id"),
        ("an unknown collection", "unknown collection 'passwords'"),
        ("a text too long", "longer than"),
        ("a control character", "control character"),
        ("a date that does not exist", "YYYY-MM-DD"),
        ("a timestamp of the year 10889", "beyond the server's time"),
    ])
    func aBadChangeRefusesItsWholePageAndNothingIsApplied(_ attack: String, _ message: String) async throws {
        let bad: Wire.LoggedChange = switch attack {
        case "a field not in the schema": change("secret", .text("x"))
        case "a value of the wrong type": change("title", .integer(5))
        case "a record id that is a path": change(record: "../../../etc/passwd")
        case "an unknown collection": change(collection: "passwords")
        case "a text too long": change("title", .text(String(repeating: "a", count: 5_000)))
        case "a control character": change("title", .text("\u{1B}]0;owned\u{07}"))
        case "a date that does not exist": change("date", .date("2025-02-30"))
        default: change(millis: HLC.maxMillis)
        }
        // A good change first: it must not be kept either.
        let result = try await sync([change(), { var later = bad; later.change.hlc = HLC(millis: bad.change.hlc.millis, counter: 9, node: Self.other); return later }()])
        let error = try #require(result.error, "\(attack) was accepted")
        #expect(error.message.contains(message), "\(attack): \(error.message)")
        #expect(error.exitCode == 1)
        #expect(!error.message.unicodeScalars.contains("\u{1B}"), "the message itself must be safe to print")
        #expect(result.stored == 0, "\(attack)")
        #expect(result.cursor == "0", "\(attack)")
        // The clock did not learn the far-future timestamp.
        #expect(result.clock.flatMap(HLC.init(text:)).map { $0.millis < HLC.maxMillis } ?? true, "\(attack)")
    }

    /// The first sync's snapshot pages are checked like log pages (on the task that fetched them,
    /// `FetchedPage`): a bad second page refuses itself whole, the first stays applied and the
    /// snapshot resumes after it.
    @Test func aBadSnapshotPageIsRefusedWholeAfterTheGoodOneBeforeIt() async throws {
        let local = try TemporaryReplica()
        defer { local.cleanUp() }
        let first = change(), bad = change("secret", .text("x"), record: String(format: "%032x", 8), counter: 1)
        let server = HostileServer(snapshot: { after in
            after == nil
                ? Wire.SnapshotResponse(changes: [first], since: 0, next: first.change.hlc, total: 2, serverTime: HostileServer.now)
                : Wire.SnapshotResponse(changes: [bad], since: 0, next: nil, total: nil, serverTime: HostileServer.now)
        })
        let syncer = Syncer(replica: local.replica, client: server, settings: local.settings, progress: ProgressLine(enabled: false))
        var failure: ClientError?
        do { _ = try await syncer.run() } catch let error as ClientError { failure = error }
        let error = try #require(failure, "the bad snapshot page was accepted")
        #expect(error.message.contains("unknown field 'secret'"), "\(error.message)")
        let (stored, done) = try await local.replica.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change") ?? 0, try Setting.get(.snapshotDone, db))
        }
        #expect(stored == 1, "only the good first page is kept")
        #expect(done != "1", "the snapshot is not done")
    }

    @Test func controlAndBidiCharactersAreShownVisiblyOnATerminalOnly() {
        let hostile = "Protest\u{1B}]0;owned\u{07}\u{1B}[2J\u{9B}1m\u{202E}gnp.exe\u{2066}\u{200F}\r"
        let shown = Output.forTerminal(hostile, true)
        #expect(shown == "Protest<U+001B>]0;owned<U+0007><U+001B>[2J<U+009B>1m<U+202E>gnp.exe<U+2066><U+200F><U+000D>")
        #expect(Output.forTerminal(hostile, false) == hostile)
        // Multi-line text stays readable: line feeds, CRLF and tabs are kept.
        #expect(TerminalText.visible("one\r\ntwo\tthree\nfour") == "one\r\ntwo\tthree\nfour")
        #expect(TerminalText.visible("\u{7F}\u{0}") == "<U+007F><U+0000>")
    }
}
