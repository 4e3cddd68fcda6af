import ArgumentParser
import Foundation

extension CasebookServer {
    struct DoctorCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "doctor",
            abstract: "Check a deployment: data folder, store, TLS files, clock and disk space; say what to fix.",
            discussion: """
                Reads the settings serve would use: the options, the environment, and with
                --env-file a service's settings file (the package's is /etc/casebook/server.env).
                Run it as the user that runs serve:
                  sudo -u casebook casebook-server doctor --env-file /etc/casebook/server.env
                Nothing is written or migrated. Exits 1 if a check failed; warnings alone exit 0.
                """)

        @OptionGroup var store: StoreOptions

        @OptionGroup var listen: ListenOptions

        @Option(name: .customLong("env-file"),
                help: ArgumentHelp("Read KEY=VALUE settings from FILE first, as the service does (they replace the environment's; options still win).",
                                   valueName: "FILE"))
        var envFile: String?

        @Option(help: ArgumentHelp("Seconds to wait for the database.", valueName: "SECONDS"))
        var timeout = 5

        @Flag(name: .customLong("verify-files"), help: "Re-read every evidence file of the embedded store and check its hash (sizes are always checked).")
        var verifyFiles = false

        @Flag(help: "Print {\"ok\": bool, \"findings\": [{\"status\", \"check\", \"message\"}]}.")
        var json = false

        func validate() throws {
            guard (1...300).contains(timeout) else { throw ValidationError("--timeout must be between 1 and 300 seconds") }
        }

        func run() async throws {
            var findings: [DoctorFinding] = []
            if let envFile {
                let file = try EnvironmentFile(path: envFile)
                file.apply()
                findings.append(DoctorFinding(.note, "configuration", "read \(file.values.count) setting(s) from \(envFile)"))
            } else if FileManager.default.fileExists(atPath: Self.packagedEnvironmentFile) {
                findings.append(DoctorFinding(.note, "configuration", "\(Self.packagedEnvironmentFile) was not read: add --env-file \(Self.packagedEnvironmentFile) to check the service's settings"))
            }
            // The file may have set what the options' checks read.
            try store.validate()
            try listen.validate()
            let doctor = Doctor(
                dataFolder: store.postgresURL == nil ? store.dataFolder : nil, postgresURL: store.postgresURL,
                certificateFile: listen.certificateFile, keyFile: listen.keyFile,
                host: listen.listenHost, isLoopback: listen.isLoopback, timeout: .seconds(timeout), verifyFiles: verifyFiles)
            findings += await doctor.run()
            try report(findings)
        }

        /// Where the server package keeps the service's settings.
        static let packagedEnvironmentFile = "/etc/casebook/server.env"

        private func report(_ findings: [DoctorFinding]) throws {
            let failed = findings.filter { $0.status == .failed }.count
            if json {
                struct Report: Encodable { var ok: Bool; var findings: [DoctorFinding] }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(Report(ok: failed == 0, findings: findings)), as: UTF8.self))
            } else {
                for finding in findings {
                    let label = finding.status == .failed ? "FAILED" : finding.status.rawValue
                    print("\(label.padding(toLength: 8, withPad: " ", startingAt: 0))\(finding.check): \(finding.message)")
                }
                let warnings = findings.filter { $0.status == .warning }.count
                print(failed == 0 && warnings == 0 ? "all checks passed"
                      : "\(failed) problem(s) to fix, \(warnings) warning(s)")
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
