#include <string.h>
#include <sodium.h>
#include "cipher_vfs_internal.h"

// An encrypted file. Each page is sealed with XChaCha20-Poly1305 (IETF) under the data key: its first
// 4056 bytes are encrypted in place, and the last 40 (SQLite's reserved bytes) hold the random 24-byte
// nonce and the 16-byte tag. The additional data names the kind of file, and for the main database the
// page number, so a page cannot be moved to another place or file and still open.
//
// Main database: only whole pages are written; a read of part of a page opens the whole page.
// WAL: the 32-byte header and each frame's 24-byte header are written as SQLite writes them (page
// numbers, sizes, salts and checksums); each frame's page image is sealed.
// Rollback journal: every I/O of exactly one page (the page records) is sealed; headers are not.

#define PAGE CIPHER_VFS_PAGE_SIZE

static const sqlite3_io_methods cipher_methods;

static size_t additional_data(const CipherFile *file, sqlite3_int64 page_number, unsigned char *out) {
    static const char tags[] = {'D', 'W', 'J'};
    out[0] = (unsigned char)tags[file->kind];
    if (file->kind != CIPHER_MAIN) return 1;
    for (int index = 0; index < 8; index++) out[1 + index] = (unsigned char)(page_number >> (56 - 8 * index));
    return 9;
}

// Seals the page `plain` into file->sealed.
static void seal(CipherFile *file, const unsigned char *plain, sqlite3_int64 page_number) {
    unsigned char ad[9];
    size_t ad_size = additional_data(file, page_number, ad);
    unsigned char *nonce = file->sealed + CIPHER_SEALED_BYTES;
    unsigned char *tag = nonce + CIPHER_NONCE_BYTES;
    randombytes_buf(nonce, CIPHER_NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(file->sealed, tag, NULL, plain, CIPHER_SEALED_BYTES,
                                                        ad, ad_size, NULL, nonce, file->key);
}

// Opens file->sealed into `plain` (a whole page; its reserved bytes read as zeros). 0 when the tag fails.
static int open_sealed(CipherFile *file, unsigned char *plain, sqlite3_int64 page_number) {
    unsigned char ad[9];
    size_t ad_size = additional_data(file, page_number, ad);
    const unsigned char *nonce = file->sealed + CIPHER_SEALED_BYTES;
    const unsigned char *tag = nonce + CIPHER_NONCE_BYTES;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(plain, NULL, file->sealed, CIPHER_SEALED_BYTES, tag,
                                                            ad, ad_size, nonce, file->key) != 0) {
        return 0;
    }
    memset(plain + CIPHER_SEALED_BYTES, 0, CIPHER_VFS_RESERVE_BYTES);
    return 1;
}

static int all_zero(const unsigned char *bytes, size_t count) {
    unsigned char any = 0;
    for (size_t index = 0; index < count; index++) any |= bytes[index];
    return any == 0;
}

// Reads the sealed page at `offset` and opens it into `plain`. A page past the end of the file, or never
// written (all zeros), reads as zeros with SQLITE_IOERR_SHORT_READ, as the unix VFS reads a short file.
// A page that does not open: zeros and SQLITE_OK when `tolerant` (a torn frame or journal record, which
// SQLite's own checksum then rejects), else SQLITE_IOERR_DATA.
static int read_page(CipherFile *file, sqlite3_int64 offset, sqlite3_int64 page_number, unsigned char *plain, int tolerant) {
    int rc = file->real->pMethods->xRead(file->real, file->sealed, PAGE, offset);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
    if (rc == SQLITE_OK && open_sealed(file, plain, page_number)) return SQLITE_OK;
    memset(plain, 0, PAGE);
    if (all_zero(file->sealed, PAGE)) return SQLITE_IOERR_SHORT_READ;
    return tolerant ? SQLITE_OK : SQLITE_IOERR_DATA;
}

// Copies `amount` bytes at `within` of the page at `offset`, opening it into `out` directly when whole.
static int read_part(CipherFile *file, unsigned char *out, int amount, int within, sqlite3_int64 offset,
                     sqlite3_int64 page_number, int tolerant) {
    if (within == 0 && amount == PAGE) return read_page(file, offset, page_number, out, tolerant);
    unsigned char plain[PAGE];
    int rc = read_page(file, offset, page_number, plain, tolerant);
    if (rc == SQLITE_OK || rc == SQLITE_IOERR_SHORT_READ) memcpy(out, plain + within, (size_t)amount);
    sodium_memzero(plain, sizeof plain);
    return rc;
}

static int read_main(CipherFile *file, unsigned char *out, int amount, sqlite3_int64 offset) {
    int short_read = 0;
    while (amount > 0) {
        int within = (int)(offset % PAGE);
        int part = PAGE - within < amount ? PAGE - within : amount;
        sqlite3_int64 start = offset - within;
        int rc = read_part(file, out, part, within, start, start / PAGE + 1, 0);
        if (rc == SQLITE_IOERR_SHORT_READ) short_read = 1;
        else if (rc != SQLITE_OK) return rc;
        out += part;
        offset += part;
        amount -= part;
    }
    return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

// WAL reads: headers as stored; page images opened. A read that starts at a frame's header (recovery,
// checksum rewrites) tolerates a page that does not open: a torn frame then ends the log, as in SQLite.
static int read_wal(CipherFile *file, unsigned char *out, int amount, sqlite3_int64 offset) {
    int short_read = 0;
    int tolerant = offset >= CIPHER_WAL_HEADER_BYTES && (offset - CIPHER_WAL_HEADER_BYTES) % CIPHER_WAL_FRAME_BYTES == 0;
    while (amount > 0) {
        int part, rc;
        sqlite3_int64 within_frame = (offset - CIPHER_WAL_HEADER_BYTES) % CIPHER_WAL_FRAME_BYTES;
        if (offset < CIPHER_WAL_HEADER_BYTES || within_frame < CIPHER_WAL_FRAME_HEADER_BYTES) {
            sqlite3_int64 end = offset < CIPHER_WAL_HEADER_BYTES
                ? CIPHER_WAL_HEADER_BYTES : offset - within_frame + CIPHER_WAL_FRAME_HEADER_BYTES;
            part = end - offset < amount ? (int)(end - offset) : amount;
            rc = file->real->pMethods->xRead(file->real, out, part, offset);
        } else {
            int within = (int)(within_frame - CIPHER_WAL_FRAME_HEADER_BYTES);
            part = PAGE - within < amount ? PAGE - within : amount;
            rc = read_part(file, out, part, within, offset - within, 0, tolerant);
        }
        if (rc == SQLITE_IOERR_SHORT_READ) short_read = 1;
        else if (rc != SQLITE_OK) return rc;
        out += part;
        offset += part;
        amount -= part;
    }
    return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

static int cipher_read(sqlite3_file *base, void *out, int amount, sqlite3_int64 offset) {
    CipherFile *file = (CipherFile *)base;
    switch (file->kind) {
    case CIPHER_MAIN: return read_main(file, out, amount, offset);
    case CIPHER_WAL: return read_wal(file, out, amount, offset);
    default:
        if (amount != PAGE) return file->real->pMethods->xRead(file->real, out, amount, offset);
        return read_part(file, out, PAGE, 0, offset, 0, 1);
    }
}

// Page 1 must say what the encryption relies on: 4096-byte pages with 40 reserved bytes. Otherwise the
// write is refused rather than the seal overwriting bytes SQLite uses.
static int header_is_sealable(const unsigned char *page) {
    return page[16] == (PAGE >> 8) && page[17] == (PAGE & 0xff) && page[20] == CIPHER_VFS_RESERVE_BYTES;
}

static int write_sealed(CipherFile *file, const void *in, sqlite3_int64 offset, sqlite3_int64 page_number) {
    seal(file, in, page_number);
    return file->real->pMethods->xWrite(file->real, file->sealed, PAGE, offset);
}

static int cipher_write(sqlite3_file *base, const void *in, int amount, sqlite3_int64 offset) {
    CipherFile *file = (CipherFile *)base;
    switch (file->kind) {
    case CIPHER_MAIN:
        if (amount != PAGE || offset % PAGE != 0) return SQLITE_IOERR_WRITE;
        if (offset == 0 && !header_is_sealable(in)) return SQLITE_IOERR_WRITE;
        return write_sealed(file, in, offset, offset / PAGE + 1);
    case CIPHER_WAL: {
        sqlite3_int64 within_frame = (offset - CIPHER_WAL_HEADER_BYTES) % CIPHER_WAL_FRAME_BYTES;
        if (offset >= CIPHER_WAL_HEADER_BYTES && within_frame == CIPHER_WAL_FRAME_HEADER_BYTES && amount == PAGE) {
            return write_sealed(file, in, offset, 0);
        }
        // Anything else must stay within the WAL header or one frame header: never page content in clear.
        sqlite3_int64 end = offset + amount;
        int in_header = end <= CIPHER_WAL_HEADER_BYTES
            || (offset >= CIPHER_WAL_HEADER_BYTES && end - offset + within_frame <= CIPHER_WAL_FRAME_HEADER_BYTES);
        if (!in_header) return SQLITE_IOERR_WRITE;
        return file->real->pMethods->xWrite(file->real, in, amount, offset);
    }
    default:
        if (amount == PAGE) return write_sealed(file, in, offset, 0);
        return file->real->pMethods->xWrite(file->real, in, amount, offset);
    }
}

static int cipher_close(sqlite3_file *base) {
    CipherFile *file = (CipherFile *)base;
    int rc = file->real->pMethods->xClose(file->real);
    sodium_free(file->key);
    sqlite3_free(file->sealed);
    file->key = NULL;
    file->sealed = NULL;
    return rc;
}

static int cipher_truncate(sqlite3_file *base, sqlite3_int64 size) {
    CipherFile *file = (CipherFile *)base;
    return file->real->pMethods->xTruncate(file->real, size);
}

static int cipher_sync(sqlite3_file *base, int flags) {
    CipherFile *file = (CipherFile *)base;
    return file->real->pMethods->xSync(file->real, flags);
}

static int cipher_file_size(sqlite3_file *base, sqlite3_int64 *size) {
    CipherFile *file = (CipherFile *)base;
    return file->real->pMethods->xFileSize(file->real, size);
}

static int cipher_lock(sqlite3_file *base, int level) {
    CipherFile *file = (CipherFile *)base;
    return file->real->pMethods->xLock(file->real, level);
}

static int cipher_unlock(sqlite3_file *base, int level) {
    CipherFile *file = (CipherFile *)base;
    return file->real->pMethods->xUnlock(file->real, level);
}

static int cipher_check_reserved_lock(sqlite3_file *base, int *result) {
    CipherFile *file = (CipherFile *)base;
    return file->real->pMethods->xCheckReservedLock(file->real, result);
}

static int cipher_file_control(sqlite3_file *base, int op, void *argument) {
    CipherFile *file = (CipherFile *)base;
    // Memory-mapped reads would bypass decryption: the methods have no xFetch, and the size stays 0.
    if (op == SQLITE_FCNTL_MMAP_SIZE) {
        *(sqlite3_int64 *)argument = 0;
        return SQLITE_OK;
    }
    return file->real->pMethods->xFileControl(file->real, op, argument);
}

// 512, not the unix VFS's 4096, so that a journal header is never one page long (and taken for a page).
static int cipher_sector_size(sqlite3_file *base) {
    (void)base;
    return 512;
}

static int cipher_device_characteristics(sqlite3_file *base) {
    CipherFile *file = (CipherFile *)base;
    // Power-safe overwrite: SQLite then never pads the WAL with partial frames or splits a frame's write.
    return file->real->pMethods->xDeviceCharacteristics(file->real) | SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}

static int cipher_shm_map(sqlite3_file *base, int region, int size, int extend, void volatile **memory) {
    CipherFile *file = (CipherFile *)base;
    return file->real->pMethods->xShmMap(file->real, region, size, extend, memory);
}

static int cipher_shm_lock(sqlite3_file *base, int offset, int count, int flags) {
    CipherFile *file = (CipherFile *)base;
    return file->real->pMethods->xShmLock(file->real, offset, count, flags);
}

static void cipher_shm_barrier(sqlite3_file *base) {
    CipherFile *file = (CipherFile *)base;
    file->real->pMethods->xShmBarrier(file->real);
}

static int cipher_shm_unmap(sqlite3_file *base, int delete_flag) {
    CipherFile *file = (CipherFile *)base;
    return file->real->pMethods->xShmUnmap(file->real, delete_flag);
}

// Version 2: the -shm methods pass through (the WAL index holds no record content); no xFetch.
static const sqlite3_io_methods cipher_methods = {
    .iVersion = 2,
    .xClose = cipher_close,
    .xRead = cipher_read,
    .xWrite = cipher_write,
    .xTruncate = cipher_truncate,
    .xSync = cipher_sync,
    .xFileSize = cipher_file_size,
    .xLock = cipher_lock,
    .xUnlock = cipher_unlock,
    .xCheckReservedLock = cipher_check_reserved_lock,
    .xFileControl = cipher_file_control,
    .xSectorSize = cipher_sector_size,
    .xDeviceCharacteristics = cipher_device_characteristics,
    .xShmMap = cipher_shm_map,
    .xShmLock = cipher_shm_lock,
    .xShmBarrier = cipher_shm_barrier,
    .xShmUnmap = cipher_shm_unmap,
};

int cipher_file_open(sqlite3_vfs *real_vfs, sqlite3_filename name, CipherFile *file, int kind,
                     const unsigned char *key, int flags, int *out_flags) {
    memset(file, 0, sizeof *file);
    file->real = (sqlite3_file *)(file + 1);
    file->kind = kind;
    file->key = sodium_malloc(CIPHER_VFS_KEY_BYTES);
    file->sealed = sqlite3_malloc(PAGE);
    if (file->key == NULL || file->sealed == NULL) {
        if (file->key != NULL) sodium_free(file->key);
        sqlite3_free(file->sealed);
        return SQLITE_NOMEM;
    }
    memcpy(file->key, key, CIPHER_VFS_KEY_BYTES);
    int rc = real_vfs->xOpen(real_vfs, name, file->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        if (file->real->pMethods != NULL) file->real->pMethods->xClose(file->real);
        sodium_free(file->key);
        sqlite3_free(file->sealed);
        return rc;
    }
    file->base.pMethods = &cipher_methods;
    return SQLITE_OK;
}
