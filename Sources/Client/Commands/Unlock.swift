import ArgumentParser
import Foundation

extension Casebook {
    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep the replica's key for a while, so later commands in your session need no passphrase.",
            discussion: """
                The key is held by a small background process (the key agent) that only you can reach, and
                forgotten at the end of the time given, at 'casebook lock', when the session that unlocked it
                ends (logout), or at a reboot. Anyone using this computer as you while it is unlocked can use it.
                """)

        @Option(name: .customLong("for"), help: ArgumentHelp("How long to keep the key: e.g. 30m, 8h, 1h30m (at most 7d).", valueName: "DURATION"))
        var duration = "8h"

        @OptionGroup var homeOptions: HomeOptions

        func validate() throws {
            guard UnlockDuration.seconds(duration) != nil else {
                throw ValidationError("--for takes a duration such as 30m, 8h or 1h30m, between 1s and 7d, not '\(duration)'")
            }
        }

        func run() async throws {
            let home = homeOptions.url
            guard let keyFile = try KeyFile.read(home: home) else {
                try ReplicaFolder.requireReplica(home)
                throw ClientError("the replica in \(home.path) is not encrypted, so there is nothing to unlock: run 'casebook encrypt' to protect it with a passphrase")
            }
            let key = try ReplicaAccess.key(keyFile, homeOptions, useSession: false)
            let seconds = UnlockDuration.seconds(duration) ?? 8 * 3600
            try KeyAgent.start(replica: keyFile.replicaID, key: key, for: seconds)
            let until = Date().addingTimeInterval(TimeInterval(seconds))
            Output.line("unlocked until \(UnlockDuration.clockTime(until)) (\(UnlockDuration.text(seconds))): 'casebook lock' forgets the key now")
        }
    }

    struct Lock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget the replica's key now: later commands ask for the passphrase again.")

        @OptionGroup var homeOptions: HomeOptions

        func run() async throws {
            let home = homeOptions.url
            guard let keyFile = try KeyFile.read(home: home) else {
                try ReplicaFolder.requireReplica(home)
                Output.line("the replica in \(home.path) is not encrypted: nothing to lock")
                return
            }
            Output.line(KeyAgent.stop(replica: keyFile.replicaID) ? "locked: the key is forgotten" : "already locked")
        }
    }
}

/// `--for` durations: `30m`, `8h`, `1h30m`, `90s`, `2d`.
enum UnlockDuration {
    static let maximum = 7 * 24 * 3600

    static func seconds(_ text: String) -> Int? {
        var total = 0, number = 0, sawDigit = false
        for character in text.lowercased() {
            if let digit = character.wholeNumberValue, character.isASCII {
                number = number * 10 + digit
                sawDigit = true
                guard number <= maximum else { return nil }
                continue
            }
            guard sawDigit else { return nil }
            switch character {
            case "s": total += number
            case "m": total += number * 60
            case "h": total += number * 3600
            case "d": total += number * 86_400
            default: return nil
            }
            number = 0
            sawDigit = false
        }
        guard !sawDigit, total > 0, total <= maximum else { return nil }
        return total
    }

    static func text(_ seconds: Int) -> String {
        let hours = seconds / 3600, minutes = seconds % 3600 / 60
        if hours > 0 { return minutes > 0 ? "\(hours) h \(minutes) min" : "\(hours) h" }
        return minutes > 0 ? "\(minutes) min" : "\(seconds) s"
    }

    static func clockTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}
