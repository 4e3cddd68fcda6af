#ifndef CIPHER_VFS_INTERNAL_H
#define CIPHER_VFS_INTERNAL_H

#include <sqlite3.h>
#include "cipher_vfs.h"

// What an encrypted file is: the kind decides how its bytes map to pages and which additional data
// binds each page (so a page cannot be moved from one kind of file, or one page number, to another).
enum cipher_kind { CIPHER_MAIN, CIPHER_WAL, CIPHER_JOURNAL };

#define CIPHER_NONCE_BYTES 24
#define CIPHER_TAG_BYTES 16
#define CIPHER_SEALED_BYTES (CIPHER_VFS_PAGE_SIZE - CIPHER_VFS_RESERVE_BYTES)
#define CIPHER_WAL_HEADER_BYTES 32
#define CIPHER_WAL_FRAME_HEADER_BYTES 24
#define CIPHER_WAL_FRAME_BYTES (CIPHER_WAL_FRAME_HEADER_BYTES + CIPHER_VFS_PAGE_SIZE)

// An open encrypted file: SQLite's handle, followed in the same allocation by the wrapped VFS's.
typedef struct CipherFile {
    sqlite3_file base;
    sqlite3_file *real;
    int kind;
    unsigned char *key;    // sodium_malloc'd: locked, guarded, zeroed when freed
    unsigned char *sealed; // one page as stored (scratch, allocated once per file)
} CipherFile;

// A temporary file kept in memory.
typedef struct MemoryFile {
    sqlite3_file base;
    unsigned char *data;
    sqlite3_int64 size;
    sqlite3_int64 capacity;
} MemoryFile;

// Opens `file` (the wrapped VFS's handle follows the CipherFile) with a copy of `key`.
int cipher_file_open(sqlite3_vfs *real_vfs, sqlite3_filename name, CipherFile *file, int kind,
                     const unsigned char *key, int flags, int *out_flags);

// Opens `file` as an empty file in memory.
int memory_file_open(MemoryFile *file, int flags, int *out_flags);

// Copies the key registered for the database at `path` (a full path) into `key`; 0 when there is none.
int cipher_keys_lookup(const char *path, unsigned char *key);

// The full path SQLite will pass to xOpen for `path`, allocated with sqlite3_malloc (NULL on failure
// or before the VFS is installed).
char *cipher_vfs_full_path(const char *path);

// Whether any key is registered (temporary files then stay in memory).
int cipher_keys_any(void);

#endif
