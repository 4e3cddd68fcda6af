import Foundation
import Testing
@testable import Shared

/// Project names: what the server accepts in paths and `project create`.
@Suite struct ProjectNameTests {
    @Test func namesAreOneToSixtyFourLettersDigitsDashesAndUnderscores() {
        for name in ["kz", "KZ-2025_field", "a", String(repeating: "x", count: 64), "0-_"] {
            #expect(ProjectName.isValid(name), "\(name)")
        }
        for name in ["", String(repeating: "x", count: 65), "k z", "k.z", "k/z", "kz\u{0}", "қаз", "é", "kz\n"] {
            #expect(!ProjectName.isValid(name), "\(name)")
        }
    }
}
