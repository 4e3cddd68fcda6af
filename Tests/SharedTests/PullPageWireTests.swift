import Foundation
import Testing
@testable import Shared

/// A pull page's `conflicts` key: always written empty (clients before this version require it),
/// and ignored when read, whatever it holds or whether it is there.
@Suite struct PullPageWireTests {
    static let page = Wire.PullResponse(changes: [], cursor: 5, more: false, latest: 5, serverTime: 7)

    @Test func bothEncodersWriteAnEmptyConflictList() throws {
        let fast = String(decoding: WireCodec.encode(Self.page), as: UTF8.self)
        #expect(fast == #"{"changes":[],"conflicts":[],"cursor":5,"more":false,"latest":5,"serverTime":7}"#)
        let codable = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(Self.page)) as? [String: Any])
        #expect(Set(codable.keys) == ["changes", "conflicts", "cursor", "more", "latest", "serverTime"])
        #expect((codable["conflicts"] as? [Any])?.isEmpty == true)
    }

    @Test func pagesFromOlderOrLaterServersStillDecode() throws {
        let older = """
            {"changes":[],"conflicts":[{"conflict":{"id":"d6bfad8e4de555a4","collection":"incidents",\
            "record":"97b750923ceb3ffd019490d0f1807b4a","field":"title","versions":[]},"open":true}],\
            "cursor":5,"more":false,"latest":5,"serverTime":7}
            """
        let later = #"{"changes":[],"cursor":5,"more":false,"latest":5,"serverTime":7}"#
        for text in [older, later] {
            for decoded in [try WireCodec.decodePullResponse(Data(text.utf8)), try JSONDecoder().decode(Wire.PullResponse.self, from: Data(text.utf8))] {
                #expect(decoded.changes.isEmpty && decoded.cursor == 5 && !decoded.more && decoded.latest == 5 && decoded.serverTime == 7)
            }
        }
    }

    @Test func theCustodyPositionTravelsWhenThereIsOneAndIsNilFromOlderServers() throws {
        var page = Self.page
        page.custodySeq = 12
        let fast = String(decoding: WireCodec.encode(page), as: UTF8.self)
        #expect(fast == #"{"changes":[],"conflicts":[],"cursor":5,"more":false,"latest":5,"serverTime":7,"custodySeq":12}"#)
        for data in [WireCodec.encode(page), try JSONEncoder().encode(page)] {
            #expect(try WireCodec.decodePullResponse(data, fallback: false).custodySeq == 12)
            #expect(try JSONDecoder().decode(Wire.PullResponse.self, from: data).custodySeq == 12)
        }
        let older = Data(#"{"changes":[],"conflicts":[],"cursor":5,"more":false,"latest":5,"serverTime":7}"#.utf8)
        #expect(try WireCodec.decodePullResponse(older, fallback: false).custodySeq == nil)
        #expect(try JSONDecoder().decode(Wire.PullResponse.self, from: older).custodySeq == nil)
    }
}
