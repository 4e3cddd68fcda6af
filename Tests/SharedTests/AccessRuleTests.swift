import Testing
@testable import Shared

/// Who may read a record (need-to-know): the access class its `_access` heads give, and the rule
/// that concurrent access values keep out whoever any one of them keeps out.
@Suite struct AccessRuleTests {
    @Test func aRecordLeftToTheTeamHasTheTeamsClass() {
        #expect(AccessRule.accessClass([]) == AccessRule.team)
        #expect(AccessRule.accessClass([.list([])]) == AccessRule.team)
        #expect(AccessRule.accessClass([.unset]) == AccessRule.team)
    }

    @Test func oneRestrictionIsOneClauseOfItsSortedGroups() {
        #expect(AccessRule.accessClass([.list(["witnesses", "legal", "witnesses"])]) == "legal,witnesses")
        #expect(AccessRule.groupsNamed(by: "legal,witnesses") == ["legal", "witnesses"])
    }

    @Test func concurrentRestrictionsAreOneClauseEachInAnyOrder() {
        let one = AccessRule.accessClass([.list(["witnesses"]), .list(["legal", "medical"])])
        let other = AccessRule.accessClass([.list(["medical", "legal"]), .list(["witnesses"]), .list([])])
        #expect(one == "legal,medical|witnesses")
        #expect(one == other)
    }

    @Test func aClauseLetsInAMemberOfAnyOfItsGroups() {
        #expect(AccessRule.mayRead("legal,witnesses", groups: ["witnesses"]))
        #expect(AccessRule.mayRead("legal,witnesses", groups: ["legal", "translators"]))
        #expect(!AccessRule.mayRead("legal,witnesses", groups: ["translators"]))
        #expect(!AccessRule.mayRead("legal,witnesses", groups: []))
        #expect(AccessRule.mayRead(AccessRule.team, groups: []))
    }

    @Test func concurrentValuesLetInOnlyWhoeverEveryOneOfThemLetsIn() {
        // One researcher restricted the record to `witnesses` while another restricted it to `legal`:
        // until someone resolves it, only a member of both may read it.
        let both = AccessRule.accessClass([.list(["witnesses"]), .list(["legal"])])
        #expect(AccessRule.mayRead(both, groups: ["witnesses", "legal"]))
        #expect(!AccessRule.mayRead(both, groups: ["witnesses"]))
        #expect(!AccessRule.mayRead(both, groups: ["legal"]))
        // One restricted it while another left it to the team: the restriction holds.
        let widened = AccessRule.accessClass([.list(["witnesses"]), .list([])])
        #expect(!AccessRule.mayRead(widened, groups: ["translators"]))
        #expect(AccessRule.mayRead(widened, groups: ["witnesses"]))
    }
}
