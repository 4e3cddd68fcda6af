import ArgumentParser
import Foundation
import Shared

extension CasebookServer {
    struct DeviceCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "device", abstract: "List and revoke the devices (replicas) that sign a project's changes.",
            subcommands: [List.self, Revoke.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List a project's devices: node id, owner, when registered, and whether revoked.")

            @Option(help: "The project.")
            var project: String

            @Flag(help: "Print {\"devices\": [...]} instead of text.")
            var json = false

            @OptionGroup var store: StoreOptions

            func run() async throws {
                let project = project
                let devices = try await store.withStore { try await $0.devices(project: project) }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = .sortedKeys
                    print(String(decoding: try encoder.encode(["devices": devices]), as: UTF8.self))
                    return
                }
                if devices.isEmpty { print("no devices registered in \(project)") }
                for device in devices {
                    let registered = Date(timeIntervalSince1970: Double(device.registeredAt) / 1000).formatted(.iso8601)
                    let state = device.revokedAt.map { "revoked \(Date(timeIntervalSince1970: Double($0) / 1000).formatted(.iso8601))" } ?? "valid"
                    print("\(device.node)  \(device.owner)  registered \(registered)  \(state)")
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke a device: its new changes are refused from now on (its accepted ones stay).",
                discussion: "Works while the server runs. The device's owner keeps their token: revoke it with 'user revoke' too if the device was lost.")

            @Argument(help: "The device's node id, as 'device list' shows it.")
            var node: String

            @Option(help: "Revoke it only in this project (default: every project it is registered in).")
            var project: String?

            @OptionGroup var store: StoreOptions

            func validate() throws {
                guard NodeID(node) != nil else { throw ValidationError("'\(node.prefix(40))' is not a node id: 1-32 characters 0-9a-f, as 'device list' shows it") }
            }

            func run() async throws {
                guard let nodeID = NodeID(node) else { return }
                let project = project
                let revoked = try await store.withStore { try await $0.revokeDevice(node: nodeID, project: project, now: currentMillis()) }
                guard revoked > 0 else {
                    throw StoreError.notFound("no valid device \(node) is registered\(project.map { " in \($0)" } ?? ""): nothing was revoked")
                }
                print("revoked device \(node) in \(revoked) project\(revoked == 1 ? "" : "s")")
            }
        }
    }
}
