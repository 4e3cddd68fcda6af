/// Where the vault reads a passphrase from: bytes the caller owns and zeroes when done (the vault
/// makes no copy of them). `Passphrase` is one; `[UInt8]` is one for tests.
protocol PassphraseBytes {
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T
}

extension Array: PassphraseBytes where Element == UInt8 {
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try withUnsafeBytes(body)
    }
}
