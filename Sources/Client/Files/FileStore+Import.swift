import Foundation
import Shared

extension FileStore {
    /// A file read for an attach: its SHA-256 and size, and the staging file holding its sealed copy,
    /// to move into place in the same step that records it (nil when the replica held that content already).
    final class Imported {
        let sha256: String
        let size: Int64
        let writer: StoreWriter?

        init(sha256: String, size: Int64, writer: StoreWriter?) {
            self.sha256 = sha256
            self.size = size
            self.writer = writer
        }

        /// Removes the staging file (the attach failed or was refused).
        func discard() { writer?.discard() }
    }

    /// Reads `source` twice: once to hash it, and, unless `held` says the replica holds that content
    /// already, once more into a staging file (sealed when the replica is encrypted), hashing it again.
    /// A file that changed in between or during either pass is refused and nothing is kept.
    /// `progress` receives the bytes read so far (both passes count: `2 * size` in all for a new file).
    func importFile(_ source: SourceFile, held: (String) throws -> Bool, progress: (Int64) -> Void) throws -> Imported {
        var done: Int64 = 0
        let sha256 = try source.read { chunk in
            done += Int64(chunk.count)
            progress(done)
        }
        if try held(sha256) { return Imported(sha256: sha256, size: source.size, writer: nil) }
        let writer = try StoreWriter.staging(store: self, sha256: sha256, size: source.size)
        do {
            let again = try source.read { chunk in
                try writer.append(chunk)
                done += Int64(chunk.count)
                progress(done)
            }
            guard again == sha256, try writer.finish() == sha256, writer.isComplete else { throw source.changed() }
            return Imported(sha256: sha256, size: source.size, writer: writer)
        } catch {
            writer.discard()
            throw error
        }
    }

    /// Moves an imported file into place (nothing to do when the store held it): call it inside the
    /// transaction that records the file, so that both happen or neither counts.
    func commit(_ imported: Imported) throws {
        guard let writer = imported.writer else { return }
        try commit(staged: writer.url, as: imported.sha256)
        writer.keep()
    }
}
