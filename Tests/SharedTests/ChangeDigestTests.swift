import Foundation
import Testing
@testable import Shared

/// The digest signatures and the log's hash chain are built on.
@Suite struct ChangeDigestTests {
    let change = Fixture.change(.text("Arrest at the court"), at: Fixture.hlc(1000, 2), base: Fixture.hlc(900, 0, Fixture.nodeB),
                                supersedes: [Fixture.hlc(950, 0, Fixture.nodeC), Fixture.hlc(940, 1, Fixture.nodeB)])

    @Test func theDigestIsTheDocumentedEncodingHashed() {
        // Computed independently (Python's hashlib over the encoding docs/protocol.md describes), so a
        // change of the encoding, which would orphan every signature ever made, fails here.
        #expect(ChangeDigest(of: change, project: "kz").hex == "818f67f7877a8c4e6e3854f8ae515bf2cc20252673e719b5b4602858837f4cf8")
    }

    /// Every kind of value, and a change with one superseded and one covered version and no base,
    /// pinned as the encoding gave them before it was written without intermediate text (45a4699),
    /// and recomputed independently with Python's hashlib over the encoding docs/protocol.md gives:
    /// the digests of changes already signed must never move.
    @Test(arguments: [
        (FieldValue.integer(-42), "ee3c3d5628ae93dadf925285ed9ac3d70fa4d07401ed1204d9ba254b45678f83"),
        (.date("2024-03-01"), "75366a9a8bfacd8255d9674cec17b88a3d3ef530174f146fe3d83ccdb3604eac"),
        (.bool(true), "b870bf8a22e947f7046063862926f7c0384b2a64f0b2a540d159d1e3525de5f7"),
        (.bool(false), "71e149bf9c7944806d08076732db24b9e8c57402ee9549513eab89f79ef5032a"),
        (.reference("0194a3b2-c1d0-7000-8000-000000000001"), "eec286176903aafb9a98bf3b6461f9f92a18994877948bad3a7259decd105653"),
        (.list(["Kazakhstan", "Uzbek \"Tashkent\" \u{1F4F7}", "a\\b\nc"]), "6a65df7d26fbf0f4fd6dcf21b71eed5a6f85c79a7e24bbd63c826b2956c5945b"),
        (.references(["0194a3b2-c1d0-7000-8000-000000000001", "0194a3b2-c1d0-7000-8000-000000000002"]), "485aaff4f3b07fed9b6c7c6b41d5cb66dbe87ab340316302e62a04151052ee5e"),
        (.files([FileRef(sha256: String(repeating: "ab", count: 32), name: "court \"order\".pdf", size: 1234, mime: "application/pdf")]), "2686dbfe5d224ed786c975e5e468b366f0a2b887c42c548d2fd0cb504c0264de"),
        (.unset, "57c0e34a7b295524407708847b92be887618e51f2568e25c180fb861df1d2058"),
        (.text(""), "de2021544ce736d6795cc844d6d453ac67e2207e36471bd06d4e48382ddfa99f"),
        (.text("Свобода слова: «гарантирована» ✓"), "454ac57ad00d033be3680de5c4fa245e98888e6a9ebb644c15abd40933dc4415"),
    ])
    func everyKindOfValueKeepsItsDigest(value: FieldValue, expected: String) {
        let single = Fixture.change(value, at: Fixture.hlc(1000, 2), author: "ana.k",
                                    supersedes: [Fixture.hlc(950, 0, NodeID("c")!)], covers: [Fixture.hlc(1, 0, Fixture.nodeB)])
        #expect(ChangeDigest(of: single, project: "kz-upr").hex == expected, "\(value)")
    }

    /// The other branches of the encoding: the largest timestamp, a 32-digit node, several covered
    /// versions whose texts sort differently from their order (nodes of different lengths), no
    /// superseded one, and non-ASCII text in a reference and an author (pinned with hashlib too).
    @Test func timestampsOfEveryShapeKeepTheirDigest() {
        let long = NodeID("0123456789abcdef0123456789abcdef")!
        let change = Change(collection: "sources", record: "rec-1", field: "files", value: .reference("Ünïcödé"),
                            hlc: HLC(millis: HLC.maxMillis, counter: .max, node: long), author: "бекзат", base: Fixture.hlc(7, 0, NodeID("f")!),
                            supersedes: [], covers: [Fixture.hlc(5, 1, NodeID("ab")!), Fixture.hlc(5, 1, NodeID("a")!),
                                                     Fixture.hlc(5, 1, NodeID("ab0")!), Fixture.hlc(4, 9, long)])
        #expect(ChangeDigest(of: change, project: "kz-upr").hex == "7b00d212570c44227f73dcb9a966b10d826c97f3a04c06474a99e9502251c6d5")
    }

    /// A page's digests come from one reused buffer: each is the digest of its own change alone,
    /// whatever the size of the change before it.
    @Test func digestsOfAPageEqualEachChangesOwn() {
        let changes = [change, Fixture.change(.text(String(repeating: "long text ", count: 200)), at: Fixture.hlc(2000)),
                       Fixture.change(.unset, at: Fixture.hlc(3000)), change]
        #expect(ChangeDigest.of(changes, project: "kz") == changes.map { ChangeDigest(of: $0, project: "kz") })
        #expect(ChangeDigest.of([Change](), project: "kz").isEmpty)
    }

    @Test func everyPartOfAChangeIsInItsDigest() {
        let digest = ChangeDigest(of: change, project: "kz")
        var variants: [Change] = []
        func variant(_ edit: (inout Change) -> Void) { var copy = change; edit(&copy); variants.append(copy) }
        variant { $0.collection = "sources" }
        variant { $0.record = String($0.record.reversed()) }
        variant { $0.field = "summary" }
        variant { $0.value = .text("Arrest at the court ") }
        variant { $0.hlc = Fixture.hlc(1000, 3) }
        variant { $0.base = nil }
        variant { $0.supersedes.removeLast() }
        variant { $0.covers = [Fixture.hlc(1, 0)] }
        variant { $0.author = "bo" }
        for other in variants { #expect(ChangeDigest(of: other, project: "kz") != digest, "\(other)") }
        #expect(ChangeDigest(of: change, project: "kz2") != digest)
        // Lengths are prefixed: moving a character from one part to the next is another change.
        var shifted = change
        shifted.collection = "incidentst"
        shifted.field = "itle"
        #expect(ChangeDigest(of: shifted, project: "kz") != digest)
    }

    @Test func listOrderIsNotPartOfTheChange() {
        var reordered = change
        reordered.supersedes.reverse()
        #expect(ChangeDigest(of: reordered, project: "kz") == ChangeDigest(of: change, project: "kz"))
    }

    @Test func hexRoundTripsAndRefusesWhatIsNotADigest() {
        let digest = ChangeDigest(of: change, project: "kz")
        #expect(ChangeDigest(hex: digest.hex) == digest)
        #expect(ChangeDigest(hex: digest.hex.uppercased()) == digest)
        #expect(ChangeDigest(hex: String(digest.hex.dropLast())) == nil)
        #expect(ChangeDigest(hex: String(digest.hex.dropLast()) + "g") == nil)
        #expect(ChangeDigest(bytes: Array(digest.bytes.dropLast())) == nil)
    }

    @Test func everyByteCountsAndListsPackAndUnpackWhole() {
        let digest = ChangeDigest(of: change, project: "kz")
        #expect(ChangeDigest(bytes: digest.bytes + [0]) == nil)
        // Each of the 32 bytes, changed alone, gives another digest (the four words are all compared and hashed).
        var distinct: Set<ChangeDigest> = [digest]
        for index in 0 ..< 32 {
            var bytes = digest.bytes
            bytes[index] ^= 0x80
            let other = ChangeDigest(bytes: bytes)
            #expect(other != digest && other?.bytes == bytes)
            if let other { distinct.insert(other) }
        }
        #expect(distinct.count == 33)
        let list = [digest, ChangeDigest(of: change, project: "uz"), digest]
        #expect(ChangeDigest.pack(list).count == 96)
        #expect(ChangeDigest.unpack(ChangeDigest.pack(list)) == list)
        #expect(ChangeDigest.unpack(ChangeDigest.pack(list).dropLast()) == nil)
        #expect(ChangeDigest.unpack([UInt8]()) == [])
    }
}
