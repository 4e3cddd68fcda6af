import CSQLiteTuning

/// Process-wide SQLite settings, applied once before the process opens its first database.
package enum SQLiteTuning {
    private static let applied: Int32 = casebook_sqlite_tune()

    /// Applies the settings if SQLite is not in use yet; later calls do nothing.
    package static func apply() { _ = applied }
}
