#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "cipher_vfs_internal.h"

// The VFS: opens decide whether a file is encrypted, kept in memory, or passed through; every other
// method is the wrapped VFS's.

static sqlite3_vfs *wrapped;
static unsigned long long memory_files;

static int is_temporary(sqlite3_filename name, int flags) {
    const int temporary = SQLITE_OPEN_DELETEONCLOSE | SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL
        | SQLITE_OPEN_TRANSIENT_DB | SQLITE_OPEN_SUBJOURNAL;
    return name == NULL || (flags & temporary) != 0;
}

static int cipher_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags) {
    (void)vfs;
    file->pMethods = NULL;
    if (is_temporary(name, flags)) {
        // Temporary files of any connection stay in memory while the process holds a key: a VFS
        // cannot tell which connection opens them, and sort and statement files hold record content.
        if (!cipher_keys_any()) return wrapped->xOpen(wrapped, name, file, flags, out_flags);
        __atomic_add_fetch(&memory_files, 1, __ATOMIC_RELAXED);
        return memory_file_open((MemoryFile *)file, flags, out_flags);
    }
    int kind;
    const char *database;
    if (flags & SQLITE_OPEN_MAIN_DB) {
        kind = CIPHER_MAIN;
        database = name;
    } else if (flags & (SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL)) {
        kind = (flags & SQLITE_OPEN_WAL) ? CIPHER_WAL : CIPHER_JOURNAL;
        database = sqlite3_filename_database(name);
    } else {
        return wrapped->xOpen(wrapped, name, file, flags, out_flags);
    }
    unsigned char key[CIPHER_VFS_KEY_BYTES];
    if (database == NULL || !cipher_keys_lookup(database, key)) {
        return wrapped->xOpen(wrapped, name, file, flags, out_flags);
    }
    int rc = cipher_file_open(wrapped, name, (CipherFile *)file, kind, key, flags, out_flags);
    sodium_memzero(key, sizeof key);
    return rc;
}

static int cipher_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    (void)vfs;
    return wrapped->xDelete(wrapped, name, sync_dir);
}

static int cipher_access(sqlite3_vfs *vfs, const char *name, int flags, int *result) {
    (void)vfs;
    return wrapped->xAccess(wrapped, name, flags, result);
}

static int cipher_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return wrapped->xFullPathname(wrapped, name, size, out);
}

static void *cipher_dl_open(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return wrapped->xDlOpen(wrapped, name);
}

static void cipher_dl_error(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    wrapped->xDlError(wrapped, size, out);
}

static void (*cipher_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return wrapped->xDlSym(wrapped, handle, symbol);
}

static void cipher_dl_close(sqlite3_vfs *vfs, void *handle) {
    (void)vfs;
    wrapped->xDlClose(wrapped, handle);
}

static int cipher_randomness(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return wrapped->xRandomness(wrapped, size, out);
}

static int cipher_sleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return wrapped->xSleep(wrapped, microseconds);
}

static int cipher_current_time(sqlite3_vfs *vfs, double *now) {
    (void)vfs;
    return wrapped->xCurrentTime(wrapped, now);
}

static int cipher_get_last_error(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return wrapped->xGetLastError ? wrapped->xGetLastError(wrapped, size, out) : 0;
}

static int cipher_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *now) {
    (void)vfs;
    return wrapped->xCurrentTimeInt64(wrapped, now);
}

static sqlite3_vfs cipher_vfs = {
    .iVersion = 2,
    .zName = "casebook-cipher",
    .xOpen = cipher_open,
    .xDelete = cipher_delete,
    .xAccess = cipher_access,
    .xFullPathname = cipher_full_pathname,
    .xDlOpen = cipher_dl_open,
    .xDlError = cipher_dl_error,
    .xDlSym = cipher_dl_sym,
    .xDlClose = cipher_dl_close,
    .xRandomness = cipher_randomness,
    .xSleep = cipher_sleep,
    .xCurrentTime = cipher_current_time,
    .xGetLastError = cipher_get_last_error,
    .xCurrentTimeInt64 = cipher_current_time_int64,
};

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

int cipher_vfs_install(void) {
    pthread_mutex_lock(&install_lock);
    int rc = SQLITE_OK;
    if (wrapped == NULL) {
        sqlite3_vfs *previous = sodium_init() < 0 ? NULL : sqlite3_vfs_find(NULL);
        if (previous == NULL || previous->iVersion < 2) {
            rc = SQLITE_ERROR;
        } else {
            size_t cipher_size = sizeof(CipherFile) + (size_t)previous->szOsFile;
            size_t size = cipher_size > sizeof(MemoryFile) ? cipher_size : sizeof(MemoryFile);
            cipher_vfs.szOsFile = (int)size;
            cipher_vfs.mxPathname = previous->mxPathname;
            cipher_vfs.pAppData = previous;
            wrapped = previous;
            rc = sqlite3_vfs_register(&cipher_vfs, 1);
            if (rc != SQLITE_OK) wrapped = NULL;
        }
    }
    pthread_mutex_unlock(&install_lock);
    return rc;
}

int cipher_vfs_request_reserve(struct sqlite3 *db) {
    int reserve = CIPHER_VFS_RESERVE_BYTES;
    return sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
}

unsigned long long cipher_vfs_memory_file_count(void) {
    return __atomic_load_n(&memory_files, __ATOMIC_RELAXED);
}

// The full path SQLite will pass to xOpen for `path`, in a new allocation (NULL on failure).
char *cipher_vfs_full_path(const char *path) {
    if (wrapped == NULL) return NULL;
    char *full = sqlite3_malloc(wrapped->mxPathname + 1);
    if (full == NULL) return NULL;
    // SQLITE_OK_SYMLINK (a symbolic link was resolved) is a success too.
    if ((wrapped->xFullPathname(wrapped, path, wrapped->mxPathname + 1, full) & 0xff) != SQLITE_OK) {
        sqlite3_free(full);
        return NULL;
    }
    return full;
}
