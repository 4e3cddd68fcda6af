import ArgumentParser
import Testing
@testable import Client

/// Issue 23: `--home` and `--passphrase-file` before the subcommand (`casebook --home DIR sync`) are
/// moved after it before parsing; everything else reaches the parser unchanged.
@Suite struct GlobalOptionsTests {
    /// A command tree with a nested level, like `casebook-server user add`.
    struct Root: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tool", subcommands: [Group.self, Leaf.self])
    }

    struct Group: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "group", subcommands: [Leaf.self], aliases: ["g"])
    }

    struct Leaf: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "leaf")
    }

    func rewrite(_ arguments: [String]) -> [String] {
        GlobalOptions.rewrite(arguments, root: Casebook.self)
    }

    @Test func optionsBeforeTheSubcommandMoveAfterIt() {
        #expect(rewrite(["--home", "/d", "sync"]) == ["sync", "--home", "/d"])
        #expect(rewrite(["--home", "/d", "add", "incidents", "--set", "title=x"]) == ["add", "--home", "/d", "incidents", "--set", "title=x"])
        #expect(rewrite(["--home", "/d", "--passphrase-file", "/p", "status", "--json"])
                == ["status", "--home", "/d", "--passphrase-file", "/p", "--json"])
    }

    @Test func theEqualsFormMovesToo() {
        #expect(rewrite(["--home=/d", "status"]) == ["status", "--home=/d"])
        #expect(rewrite(["--passphrase-file=/p", "--home", "/d", "sync"]) == ["sync", "--passphrase-file=/p", "--home", "/d"])
    }

    @Test func argumentsWithoutLeadingGlobalOptionsAreUnchanged() {
        for arguments in [[], ["sync"], ["sync", "--home", "/d"], ["status", "--home=/d", "--json"], ["--help"], ["--version"],
                          ["add", "incidents", "--home", "/d", "--", "--home"]] {
            #expect(rewrite(arguments) == arguments)
        }
    }

    @Test func withoutASubcommandTheyAreDroppedSoTheUsageIsPrinted() {
        #expect(rewrite(["--home", "/d"]).isEmpty)
        #expect(rewrite(["--home=/d", "--help"]) == ["--help"])
        #expect(rewrite(["--home", "/d", "--version"]) == ["--version"])
        // Not a subcommand: the parser reports it, not the global option.
        #expect(rewrite(["--home", "/d", "frobnicate"]) == ["frobnicate"])
    }

    @Test func aMissingValueIsLeftForTheParserToReport() {
        #expect(rewrite(["--home"]) == ["--home"])
        #expect(rewrite(["--home", "--json", "status"]) == ["--home", "--json", "status"])
    }

    @Test func aRefusedPassphraseMovesSoTheCommandCanSayWhy() {
        #expect(rewrite(["--passphrase", "secret", "sync"]) == ["sync", "--passphrase", "secret"])
    }

    @Test func nestedSubcommandsAndAliasesKeepTheirWholePath() {
        #expect(GlobalOptions.rewrite(["--home", "/d", "group", "leaf", "x"], root: Root.self) == ["group", "leaf", "--home", "/d", "x"])
        #expect(GlobalOptions.rewrite(["--home", "/d", "g", "leaf"], root: Root.self) == ["g", "leaf", "--home", "/d"])
        #expect(GlobalOptions.rewrite(["--home", "/d", "group", "other"], root: Root.self) == ["group", "--home", "/d", "other"])
        #expect(GlobalOptions.rewrite(["--home", "/d", "leaf"], root: Root.self) == ["leaf", "--home", "/d"])
    }

    @Test func theRealCommandLineParsesAfterTheRewrite() throws {
        let command = try Casebook.parseAsRoot(rewrite(["--home", "/tmp/replica", "status", "--json"]))
        let status = try #require(command as? Casebook.Status)
        #expect(status.homeOptions.home == "/tmp/replica")
    }
}
