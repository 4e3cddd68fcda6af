/// The release this build is: set here and nowhere else (`--version`, the packages `make dist` builds).
package enum CasebookVersion {
    /// The release number (semantic versioning); the Debian packages and tarballs carry it.
    package static let number = "0.1.0"

    /// What `--version` prints: the program, the release and the wire protocol it speaks.
    package static func line(program: String) -> String {
        "\(program) \(number) (protocol \(Wire.version))"
    }
}
