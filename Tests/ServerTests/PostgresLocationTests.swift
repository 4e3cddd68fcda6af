import Foundation
import TestSupport
import Testing
@testable import Server
@testable import Shared

/// Database URLs, as a coordinator writes them (no database needed).
@Suite struct PostgresLocationTests {
    @Test func urlsAreReadLikeLibpqReadsThem() throws {
        let location = try PostgresLocation(url: "postgresql://u%40org:a%2541b@db.internal:6543/case%20book?sslmode=require")
        #expect(location.username == "u@org")
        #expect(location.password == "a%41b")
        #expect(location.host == "db.internal" && location.port == 6543)
        #expect(location.database == "case book")
        #expect(location.tlsMode == .require)
        #expect(!location.redacted.contains("a%41b"))
        let defaults = try PostgresLocation(url: "postgres://ana@localhost")
        #expect(defaults.port == 5432 && defaults.database == "ana" && defaults.tlsMode == .prefer && defaults.password == nil)
    }

    @Test func badURLsSayWhatIsWrong() {
        let cases = [
            ("mysql://u@h/db", "must start with postgres://"),
            ("postgres:///db", "names no host"),
            ("postgres://h/db", "names no user"),
            ("postgres://u@h/db?sslmode=maybe", "sslmode 'maybe' is not supported"),
            ("postgres://u@h/db?ssl=1", "option 'ssl' is not supported"),
        ]
        for (url, message) in cases {
            // Fails when nothing is thrown, when the error is not a StoreError, and when its message says something else.
            #expect("\(url)") {
                _ = try PostgresLocation(url: url)
            } throws: { error in
                error is StoreError && "\(error)".contains(message)
            }
        }
    }
}
