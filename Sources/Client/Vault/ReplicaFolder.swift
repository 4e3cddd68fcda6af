import Foundation

/// The replica folder as a whole: whether it holds a replica, and wiping it.
enum ReplicaFolder {
    /// Throws the usual "run init" error when `home` holds no replica.
    static func requireReplica(_ home: URL) throws {
        guard Replica.kind(home: home) != .none else {
            throw ClientError("there is no replica in \(home.path): run 'casebook init --server URL --project NAME' first, or give the right --home")
        }
    }

    /// Destroys the key (so what remains is ciphertext no passphrase opens), forgets the unlocked
    /// session, then removes the folder. Returns what to tell the user.
    static func wipe(_ home: URL) throws -> String {
        // The key goes first, even one this version cannot read (damaged, or from a newer version).
        let keyPath = home.appendingPathComponent(KeyFile.fileName).path
        let encrypted = FileManager.default.fileExists(atPath: keyPath)
        let replicaID = (try? KeyFile.read(home: home))?.replicaID
        if encrypted { try KeyFile.destroy(home: home) }
        if let replicaID { KeyAgent.stop(replica: replicaID) }
        do {
            try FileManager.default.removeItem(at: home)
        } catch {
            let keyNote = encrypted ? "its key is destroyed, so what is left cannot be read, but " : ""
            throw ClientError("the replica in \(home.path) is only partly wiped: \(keyNote)removing the folder failed (\(error.localizedDescription)): remove it by hand")
        }
        if encrypted { return "wiped: the key is destroyed and \(home.path) removed" }
        return "wiped \(home.path). It was not encrypted, so its content may stay readable on the disk until overwritten"
    }
}
