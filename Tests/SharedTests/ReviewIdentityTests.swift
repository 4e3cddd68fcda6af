import Testing
@testable import Shared

/// Which review a document names, from the page headers of OHCHR's thematic lists for Slovenia (UPR sessions 20, 34
/// and 48; Tests/Fixtures/README.md) and titles written in other ways.
@Suite struct ReviewIdentityTests {
    @Test func theHeadersOfThreeCyclesThematicLists() {
        let cases: [(String, ReviewIdentity)] = [
            ("UPR of Slovenia (2nd Cycle – 20th session) Thematic list of recommendations Page 15 of 27",
             ReviewIdentity(state: "Slovenia", cycle: 2, session: "20")),
            ("UPR of Slovenia (3rd Cycle - 34th Session) Thematic list of recommendations Page 66 of 66",
             ReviewIdentity(state: "Slovenia", cycle: 3, session: "34")),
            ("UPR of Slovenia (4th Cycle - 48th Session) Thematic list of recommendations* Page 1 of 2",
             ReviewIdentity(state: "Slovenia", cycle: 4, session: "48")),
            ("Universal Periodic Review: Kazakhstan, third cycle", ReviewIdentity(state: "Kazakhstan", cycle: 3)),
            ("UPR of Bosnia and Herzegovina (Session 7)", ReviewIdentity(state: "Bosnia and Herzegovina", session: "7")),
        ]
        for (title, expected) in cases {
            #expect(ReviewIdentity.parse(title: title) == expected, "\(title)")
        }
        // A title naming neither a cycle nor a session names no review.
        #expect(ReviewIdentity.parse(title: "UPR20_ Slovenia_ThematicListRecommendations_E") == nil)
        #expect(ReviewIdentity.parse(title: "Thematic list of recommendations") == nil)
    }

    @Test func aSessionGivesItsCycle() {
        for (session, cycle) in [("1", 1), ("7", 1), ("12", 1), ("13", 2), ("20", 2), ("26", 2), ("27", 3), ("34", 3), ("40", 3), ("41", 4), ("48", 4)] {
            #expect(ReviewIdentity.cycle(ofSession: session) == Int64(cycle), "session \(session)")
        }
        #expect(ReviewIdentity(state: "Slovenia", session: "7").effectiveCycle == 1)
        #expect(ReviewIdentity(state: "Slovenia", session: "7").isComplete)
        #expect(!ReviewIdentity(state: "Slovenia").isComplete)
        #expect(ReviewIdentity.sessionNumber("48th") == "48" && ReviewIdentity.sessionNumber("7.0") == "7")
    }
}
