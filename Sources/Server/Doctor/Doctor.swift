import Foundation

/// Checks a deployment with the settings `serve` would use (data folder or database, TLS files,
/// clock, disk space) and says what to fix. Every check is a function of its inputs, so the tests
/// give it folders, files and clock readings of their own.
struct Doctor {
    /// The embedded store's folder, or nil when the store is PostgreSQL.
    var dataFolder: URL?
    /// The PostgreSQL URL, when the store is PostgreSQL.
    var postgresURL: String?
    /// The TLS certificate chain and key files, when `serve` is to speak HTTPS itself.
    var certificateFile: String?
    var keyFile: String?
    /// The address `serve` listens on (for the plain-http check).
    var host = "127.0.0.1"
    var isLoopback = true
    /// How long reaching the database may take.
    var timeout: Duration = .seconds(5)
    /// Whether to re-hash every evidence file of the embedded store (reads them all).
    var verifyFiles = false
    /// The system clock, and whether it is synchronised (read from timedatectl).
    var now: @Sendable () -> Date = { Date() }
    var timeSync: @Sendable () -> TimeSync = { Doctor.readTimeSync() }

    /// Runs every check, in the order a reader fixes them.
    func run() async -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        if let postgresURL {
            findings += await Self.checkPostgres(url: postgresURL, timeout: timeout, now: now)
            findings.append(DoctorFinding(.note, "disk space", "the store is in PostgreSQL: watch the disk of the database's host"))
        } else if let dataFolder {
            let folder = Self.checkDataFolder(dataFolder)
            findings += folder
            if !folder.contains(where: { $0.status == .failed }) {
                findings += Self.checkSQLiteStore(folder: dataFolder)
                findings += Self.checkEvidenceFiles(folder: dataFolder, verify: verifyFiles, timeout: timeout)
            }
            findings += Self.checkDiskSpace(at: dataFolder)
        }
        findings += checkTransport()
        findings += Self.checkClock(now: now(), sync: timeSync())
        return findings
    }

    /// TLS files if configured; otherwise whether plain http stays on this machine.
    private func checkTransport() -> [DoctorFinding] {
        if let certificateFile, let keyFile {
            return Self.checkTLS(certificate: certificateFile, key: keyFile, now: now())
        }
        if isLoopback {
            return [DoctorFinding(.note, "TLS", "plain http on \(host), this machine only: replicas elsewhere need a TLS reverse proxy in front of it")]
        }
        return [DoctorFinding(.warning, "TLS", "plain http on \(host) reaches other machines: set CASEBOOK_TLS_CERT and CASEBOOK_TLS_KEY (or --tls-cert and --tls-key), or listen on 127.0.0.1 behind a TLS proxy")]
    }
}
