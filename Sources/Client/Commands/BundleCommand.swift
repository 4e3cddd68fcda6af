import ArgumentParser
import Foundation

extension Casebook {
    /// `casebook bundle`: exchanging work without any network.
    struct BundleCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bundle",
            abstract: "Exchange work without any network: a signed, encrypted file for a USB stick or a messenger.",
            discussion: """
                'bundle create FILE' writes everything this replica knows (your pending edits included, and the \
                attached files) into FILE, encrypted for the project's devices and signed by this one. \
                'bundle apply FILE' on another member's replica checks it and merges it like a sync would, \
                conflicts included; that replica hands your changes to the server at its next sync, credited to you. \
                A bundle reveals to whoever finds it only its size and how many devices it is for.
                """,
            subcommands: [Create.self, Apply.self])
    }
}
