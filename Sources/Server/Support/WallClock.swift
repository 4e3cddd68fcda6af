import Foundation

/// Wall-clock milliseconds since the epoch: the server's one reading of the time. Requests read it
/// through `ServerSettings.clock` (which tests replace); admin commands and migrations call it.
func currentMillis() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
