import Crypto
import Foundation
import Testing
@testable import Shared

/// Batch signatures and the rule that checks changes against them.
@Suite struct SignedBatchTests {
    let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: Array(repeating: 7, count: 32))
    let node = Fixture.nodeA
    var changes: [Change] {
        (0..<3).map { Fixture.change(.text("value \($0)"), at: Fixture.hlc(1000 + UInt64($0), 0)) }
    }

    func checker(owner: String = Fixture.change(.text("x"), at: Fixture.hlc(1, 0)).author) -> SignatureCheck {
        SignatureCheck(project: "kz", devices: [node: .init(owner: owner, key: Array(key.publicKey.rawRepresentation))])
    }

    @Test func aSignedBatchHoldsAndNamesItsChangesSigner() throws {
        let batch = try SignedBatch(signing: changes, project: "kz", node: node, key: key)
        #expect(batch.holds(project: "kz", key: key.publicKey))
        #expect(!batch.holds(project: "other", key: key.publicKey))
        var check = checker()
        #expect(check.add([batch]).isEmpty)
        for change in changes { #expect(try check.signer(of: change).get() == node) }
    }

    @Test func anotherMembersBatchListingAChangeDoesNotTakeItsAuthorsPlace() throws {
        // Bek's device signs a batch of its own that also lists Ana's change, and it comes first.
        let bekKey = try Curve25519.Signing.PrivateKey(rawRepresentation: Array(repeating: 9, count: 32))
        let bekNode = try #require(NodeID("00000000000000bb"))
        let author = changes[0].author
        var check = SignatureCheck(project: "kz", devices: [node: .init(owner: author, key: Array(key.publicKey.rawRepresentation)),
                                                           bekNode: .init(owner: "bek", key: Array(bekKey.publicKey.rawRepresentation))])
        let anas = try SignedBatch(signing: changes, project: "kz", node: node, key: key)
        var bekChange = Fixture.change(.text("Bek's"), at: Fixture.hlc(2000, 0))
        bekChange.author = "bek"
        let beks = try SignedBatch(signing: [bekChange, changes[0]], project: "kz", node: bekNode, key: bekKey)
        let digests = ([bekChange] + changes).map { ChangeDigest(of: $0, project: "kz") }
        let (problems, holders) = check.locate(digests, authors: ([bekChange] + changes).map(\.author), in: [beks, anas])
        #expect(problems.isEmpty)
        #expect(holders == [0, 1, 1, 1])
        for (change, holder) in zip([bekChange] + changes, holders) {
            #expect(throws: Never.self) { try check.attribute(change, to: holder.map { [beks, anas][$0].node }).get() }
        }
    }

    @Test func anAlteredChangeOrBatchDoesNotHold() throws {
        let batch = try SignedBatch(signing: changes, project: "kz", node: node, key: key)
        var altered = changes[1]
        altered.value = .text("value 1 altered")
        var check = checker()
        _ = check.add([batch])
        #expect(throws: SignatureCheck.Unsigned.self) { try check.signer(of: altered).get() }

        var forged = batch
        forged.digests[0] = ChangeDigest(of: altered, project: "kz")
        var second = checker()
        #expect(second.add([forged]).count == 1)
        #expect(throws: SignatureCheck.Unsigned.self) { try second.signer(of: altered).get() }
    }

    @Test func aBatchSeenBeforeWithOtherDigestsUnderItsIdDoesNotHold() throws {
        let batch = try SignedBatch(signing: changes, project: "kz", node: node, key: key)
        var check = checker()
        #expect(check.add([batch]).isEmpty)
        var altered = changes[0]
        altered.value = .text("altered")
        var replayed = batch
        replayed.digests[0] = ChangeDigest(of: altered, project: "kz")
        #expect(check.add([replayed]).count == 1)
        #expect(throws: SignatureCheck.Unsigned.self) { try check.signer(of: altered).get() }
        // The same batch again, on a later page, holds without a second signature check.
        #expect(check.add([batch]).isEmpty)
        #expect(try check.signer(of: changes[0]).get() == node)
    }

    @Test func aChangeNamingAnotherAuthorThanTheDevicesOwnerIsRefused() throws {
        let batch = try SignedBatch(signing: changes, project: "kz", node: node, key: key)
        var check = checker(owner: "somebody else")
        _ = check.add([batch])
        #expect(throws: SignatureCheck.Unsigned.self) { try check.signer(of: changes[0]).get() }
    }

    @Test func anUnknownDevicesBatchIsRefused() throws {
        let batch = try SignedBatch(signing: changes, project: "kz", node: Fixture.nodeB, key: key)
        var check = checker()
        #expect(check.add([batch]).count == 1)
    }

    @Test func batchesTravelThroughBothCodecs() throws {
        let batch = try SignedBatch(signing: changes, project: "kz", node: node, key: key)
        let request = Wire.PushRequest(changes: changes, batches: [batch])
        let fast = try WireCodec.decodePushRequest(WireCodec.encode(request), fallback: false)
        #expect(fast.batches == [batch])
        let slow = try JSONDecoder().decode(Wire.PushRequest.self, from: JSONEncoder().encode(request))
        #expect(slow.batches == [batch])
        let page = Wire.PullResponse(changes: [], cursor: 0, more: false, latest: 0, serverTime: 1, batches: [batch], unsignedUpTo: 4)
        let pulled = try WireCodec.decodePullResponse(WireCodec.encode(page), fallback: false)
        #expect(pulled.batches == [batch] && pulled.unsignedUpTo == 4)
        let snapshot = Wire.SnapshotResponse(changes: [], since: 0, next: nil, total: nil, serverTime: 1, batches: [batch], unsignedUpTo: 0)
        let read = try WireCodec.decodeSnapshotResponse(WireCodec.encode(snapshot), fallback: false)
        #expect(read.batches == [batch] && read.unsignedUpTo == 0)
        let slowSnapshot = try JSONDecoder().decode(Wire.SnapshotResponse.self, from: WireCodec.encode(snapshot))
        #expect(slowSnapshot.batches == [batch])
    }
}
