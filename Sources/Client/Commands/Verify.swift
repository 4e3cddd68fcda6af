import ArgumentParser
import Foundation

extension Casebook {
    struct Verify: ReplicaCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the replica offline: its database, every stored change, and every attached file it holds.",
            discussion: """
                Every page of the database is read (and authenticated, on an encrypted replica) and its structure \
                checked; every stored change must decode; every file held is read whole, each sealed chunk \
                authenticated, and must hash to its SHA-256. Every change's signature is checked with the device keys \
                the last sync pulled: a change altered since it was signed is named by record and field. Changes \
                stored before the project's changes were signed are counted as unsigned. Exit 1 when anything \
                fails, naming it. Works offline.
                """)

        @Flag(help: "Print {\"files\", \"changes\", \"signed\", \"unsignedBeforeSignatures\", \"failures\": [{\"what\", \"id\", \"reason\"}]}.")
        var json = false

        @OptionGroup var homeOptions: HomeOptions

        func run(replica: Replica, settings: ReplicaSettings) async throws {
            let result = try await replica.verify()
            if json {
                try Output.json(VerifyJSON(files: result.files, changes: result.changes, signed: result.signatures.signed,
                                           unsignedBeforeSignatures: result.signatures.unsignedBefore,
                                           failures: result.failures.map { VerifyJSON.Failure(what: $0.what, id: $0.id, reason: $0.reason) }))
            } else {
                Output.line("\(result.changes) change\(result.changes == 1 ? "" : "s") and \(result.files) file\(result.files == 1 ? "" : "s") checked")
                let signatures = result.signatures
                Output.line("\(signatures.signed) signature\(signatures.signed == 1 ? "" : "s") hold; \(signatures.unsignedBefore) change\(signatures.unsignedBefore == 1 ? "" : "s") from before signatures")
                for failure in result.failures { Output.line("FAILED \(failure.what) \(failure.id): \(failure.reason)") }
            }
            if !result.failures.isEmpty {
                throw ClientError("the replica failed verification (\(result.failures.count) problem\(result.failures.count == 1 ? "" : "s")): sync what you can, then make a new replica with 'casebook init' in another folder and keep this one for examination")
            }
        }
    }
}

struct VerifyJSON: Encodable {
    struct Failure: Encodable {
        let what: String
        let id: String
        let reason: String
    }
    let files: Int
    let changes: Int
    let signed: Int
    let unsignedBeforeSignatures: Int
    let failures: [Failure]
}
