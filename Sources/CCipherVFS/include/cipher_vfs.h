#ifndef CIPHER_VFS_H
#define CIPHER_VFS_H

// Page encryption for SQLite, as a VFS shim over the system's default VFS ("unix").
//
// Once installed it is the process's default VFS. A database whose full path has a key registered is
// stored encrypted (XChaCha20-Poly1305 per 4096-byte page, nonce and tag in the page's 40 reserved
// bytes), and so are its WAL frames and rollback-journal page records; temporary files are kept in
// memory while any key is registered. Every other file passes straight through.

struct sqlite3;

#define CIPHER_VFS_KEY_BYTES 32
#define CIPHER_VFS_PAGE_SIZE 4096
#define CIPHER_VFS_RESERVE_BYTES 40

/// Installs the VFS as the default, once (later calls return SQLITE_OK and do nothing). Returns
/// SQLite's result code; SQLITE_ERROR when libsodium cannot start.
int cipher_vfs_install(void);

/// Registers the 32-byte `key` for the main database at `path` (any spelling SQLite would resolve to
/// the same full path), replacing a key registered before. Returns SQLite's result code (SQLITE_MISUSE
/// before `cipher_vfs_install`, SQLITE_NOMEM). Files already open keep the key they opened with.
int cipher_vfs_set_key(const char *path, const unsigned char *key);

/// Forgets the key of `path` and zeroes it. Files already open keep their own copy until closed.
void cipher_vfs_forget(const char *path);

/// Asks for the 40 reserved bytes on the connection's main database: call it on a new, empty database
/// before its first write (and before a `VACUUM INTO` an encrypted file). Returns SQLite's result code.
int cipher_vfs_request_reserve(struct sqlite3 *db);

/// How many temporary files the VFS has kept in memory since the process started (for tests).
unsigned long long cipher_vfs_memory_file_count(void);

#endif
