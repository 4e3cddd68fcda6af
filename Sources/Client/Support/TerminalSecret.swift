import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A secret typed on the terminal: echo off while it is typed, the terminal restored after.
enum TerminalSecret {
    /// Whether a person can be asked: standard input is a terminal.
    static var available: Bool { isatty(STDIN_FILENO) == 1 }

    /// Shows `prompt` on stderr and reads one line with echo off; nil at end of input.
    static func read(prompt: String) -> [UInt8]? {
        var saved = termios()
        let haveTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
        if haveTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        }
        // Echo goes off before the prompt shows, so nothing typed after it is echoed.
        FileHandle.standardError.write(Data(prompt.utf8))
        defer {
            if haveTerminal { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLineBytes()
    }

    /// One line from standard input as bytes (no String copy of a secret), without its line end.
    private static func readLineBytes() -> [UInt8]? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = Glibc.read(STDIN_FILENO, &byte, 1)
            if count == 1 {
                if byte == UInt8(ascii: "\n") { break }
                line.append(byte)
            } else if count == 0 {
                if line.isEmpty { return nil }
                break
            } else if errno != EINTR {
                return nil
            }
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }
}
