import Hummingbird
import HummingbirdCore
import Logging

/// Caps the connections the server holds open. At the cap it stops accepting (new connections wait
/// in the listen backlog until one closes) and says so in the log, once each time the cap is reached:
/// without a cap, a few hundred silent connections would use up the process's open files.
struct ConnectionCap: AvailableConnectionsDelegate {
    let maximum: Int
    let logger: Logger
    private var open = 0

    init(maximum: Int, logger: Logger) {
        self.maximum = maximum
        self.logger = logger
    }

    mutating func connectionOpened() {
        open += 1
        if open == maximum {
            logger.warning("connection limit reached: \(maximum) connections are open; new ones wait until one closes (serve --max-connections raises the limit)")
        }
    }

    mutating func connectionClosed() {
        open -= 1
    }

    func isAcceptingNewConnections() -> Bool { open < maximum }
}
