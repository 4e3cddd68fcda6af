extension Duration {
    /// The duration in seconds, for timings shown to people.
    package var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
