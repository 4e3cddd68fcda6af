import ArgumentParser

extension Casebook {
    /// The key agent behind `unlock` (hidden): started by `KeyAgent.start`, never by hand.
    struct AgentServe: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: KeyAgentProcess.command,
            abstract: "Hold an unlocked replica's key for later commands (started by 'casebook unlock').",
            shouldDisplay: false)

        @Flag(help: .hidden)
        var detached = false

        func run() throws {
            if detached { KeyAgentServer.serve() }
            KeyAgentServer.detach()
        }
    }
}
