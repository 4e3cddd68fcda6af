import Foundation

// The clock: the server's time bounds how far ahead a replica's change may be stamped
// (`serve --max-clock-drift`), so a wrong clock refuses good changes.
extension Doctor {
    /// Whether the system says its clock is synchronised (systemd's timedatectl).
    enum TimeSync: Equatable, Sendable {
        case synchronised
        case notSynchronised
        /// Cannot tell, and why (no timedatectl, no systemd running, ...).
        case unknown(String)
    }

    /// The earliest time a working clock can show: this release was made after it.
    static let earliestSaneTime = Date(timeIntervalSince1970: 1_735_689_600)  // 2025-01-01

    static func checkClock(now: Date, sync: TimeSync) -> [DoctorFinding] {
        let shown = ISO8601DateFormatter().string(from: now)
        if now < earliestSaneTime {
            return [DoctorFinding(.failed, "clock", "the system clock says \(shown), which cannot be right: set the time (timedatectl set-ntp true, or date -s) and restart serve")]
        }
        switch sync {
        case .synchronised:
            return [DoctorFinding(.ok, "clock", "\(shown), synchronised (NTP)")]
        case .notSynchronised:
            return [DoctorFinding(.warning, "clock", "\(shown), not synchronised: turn NTP on (timedatectl set-ntp true); a drifting server clock refuses replicas' changes as stamped in the future")]
        case .unknown(let reason):
            return [DoctorFinding(.note, "clock", "\(shown); cannot tell whether it is synchronised (\(reason)): check that an NTP service runs")]
        }
    }

    /// Asks timedatectl (waiting at most 5 s) whether the clock is synchronised.
    static func readTimeSync() -> TimeSync {
        let candidates = ["/usr/bin/timedatectl", "/bin/timedatectl"]
        guard let program = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return .unknown("timedatectl is not installed")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = ["show", "--property=NTPSynchronized", "--value"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .unknown("timedatectl did not start: \(error.localizedDescription)")
        }
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            process.terminate()
            return .unknown("timedatectl did not answer within 5 s")
        }
        let answer = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        switch (process.terminationStatus, answer) {
        case (0, "yes"): return .synchronised
        case (0, "no"): return .notSynchronised
        default: return .unknown("timedatectl cannot reach systemd here")
        }
    }
}
