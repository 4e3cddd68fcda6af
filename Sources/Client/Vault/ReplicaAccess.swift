import Foundation

/// How a command gets into the replica: the data key from the first source that has it, in the
/// contract's order (`--passphrase-file`, `CASEBOOK_PASSPHRASE`, the unlocked session, the terminal),
/// then the replica opened with it. A plaintext replica opens as before, with a warning.
enum ReplicaAccess {
    static func wrongPassphraseError(_ home: URL) -> ClientError {
        ClientError("wrong passphrase for the replica in \(home.path): nothing was changed; try again (each wrong guess makes the next one wait longer)",
                    exitCode: ClientError.lockedExitCode)
    }

    /// Opens the replica in `home` for a command.
    static func open(_ options: HomeOptions) throws -> Replica {
        let home = options.url
        guard let keyFile = try KeyFile.read(home: home) else {
            let replica = try Replica.open(home: home, key: nil)
            try warnIfPlaintext(replica)
            return replica
        }
        let key = try self.key(keyFile, options)
        return try Replica.open(home: home, key: key)
    }

    /// The data key of an encrypted replica. `useSession: false` insists on the passphrase itself
    /// (`passphrase` and `unlock` prove knowledge of it; the agent's key does not).
    static func key(_ keyFile: KeyFile, _ options: HomeOptions, useSession: Bool = true) throws -> DataKey {
        let home = options.url
        if let passphrase = try PassphraseInput.given(file: options.passphraseFile) {
            return try unwrap(keyFile, passphrase, home)
        }
        if useSession, let key = KeyAgent.key(replica: keyFile.replicaID), keyFile.verify(key) {
            return key
        }
        guard let passphrase = try PassphraseInput.ask("passphrase of the replica in \(home.path) (not shown): ") else {
            throw Replica.lockedError(home)
        }
        return try unwrap(keyFile, passphrase, home)
    }

    /// Derives the key from `passphrase`, slowed down after wrong guesses.
    static func unwrap(_ keyFile: KeyFile, _ passphrase: Passphrase, _ home: URL) throws -> DataKey {
        do {
            return try UnlockThrottle(home: home).run({ try keyFile.unwrap(passphrase) }, isWrongPassphrase: { $0 is KeyFile.WrongPassphrase })
        } catch is KeyFile.WrongPassphrase {
            throw wrongPassphraseError(home)
        }
    }

    /// Old replicas are plaintext until `casebook encrypt`: say so on every command, unless the user chose it at `init`.
    private static func warnIfPlaintext(_ replica: Replica) throws {
        guard try !replica.plaintextByChoice() else { return }
        Output.note("warning: this replica is not encrypted: anyone who takes this computer can read it. Run 'casebook encrypt' to protect it with a passphrase")
    }
}
