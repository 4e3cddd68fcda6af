import ArgumentParser
import Foundation
import Shared

extension Casebook {
    struct Pin: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept a new server key after a planned change: the replica then accepts only that key.",
            discussion: """
                Run it only with a fingerprint you checked with your team by another way than this network (on paper, \
                in person, by phone): a sync that stopped with exit 5 names the key the server presented, and an \
                interceptor can present any key it likes. Works offline; the next sync checks the new key.
                """)

        @Argument(help: ArgumentHelp("The fingerprint of the server's new key: 'sha256:' and 44 base64 characters.", valueName: "sha256:KEY"))
        var key: String

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws {
            guard ServerKey(key) != nil else {
                throw ValidationError("give a key fingerprint: 'sha256:' and 44 base64 characters, as 'casebook init' and the server print it, not '\(key.prefix(80))'")
            }
        }

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            guard settings.server.scheme?.lowercased() == "https" else {
                throw ClientError("this replica's server \(settings.server) uses plain http: there is no key to pin")
            }
            guard let pinned = ServerKey(key) else { throw ValidationError("give a key fingerprint: 'sha256:' and 44 base64 characters") }
            let before = settings.pins?.keys ?? []
            try await replica.pinServerKeys(ServerKeyPins([pinned]))
            Output.line("the replica now accepts only the server key \(pinned)")
            let dropped = before.filter { $0 != pinned }
            if !dropped.isEmpty { Output.note("no longer accepted: \(dropped.map(\.text).joined(separator: ", "))") }
        }
    }
}
