#include <string.h>
#include <sodium.h>
#include "cipher_vfs_internal.h"

// A temporary file kept in memory (sort runs, statement journals, temporary databases): what SQLite
// writes there is record content, and no file on disk may hold it in clear. Freed memory is zeroed.

static int memory_close(sqlite3_file *base) {
    MemoryFile *file = (MemoryFile *)base;
    if (file->data != NULL) sodium_memzero(file->data, (size_t)file->capacity);
    sqlite3_free(file->data);
    file->data = NULL;
    file->size = file->capacity = 0;
    return SQLITE_OK;
}

static int memory_read(sqlite3_file *base, void *out, int amount, sqlite3_int64 offset) {
    MemoryFile *file = (MemoryFile *)base;
    sqlite3_int64 available = file->size > offset ? file->size - offset : 0;
    int copied = available < amount ? (int)available : amount;
    if (copied > 0) memcpy(out, file->data + offset, (size_t)copied);
    if (copied == amount) return SQLITE_OK;
    memset((unsigned char *)out + copied, 0, (size_t)(amount - copied));
    return SQLITE_IOERR_SHORT_READ;
}

// Grows the buffer to hold `needed` bytes (doubling), zeroing the memory it leaves.
static int reserve(MemoryFile *file, sqlite3_int64 needed) {
    if (needed <= file->capacity) return SQLITE_OK;
    sqlite3_int64 capacity = file->capacity > 0 ? file->capacity : 65536;
    while (capacity < needed) capacity *= 2;
    unsigned char *data = sqlite3_malloc64((sqlite3_uint64)capacity);
    if (data == NULL) return SQLITE_IOERR_NOMEM;
    if (file->data != NULL) {
        memcpy(data, file->data, (size_t)file->size);
        sodium_memzero(file->data, (size_t)file->capacity);
        sqlite3_free(file->data);
    }
    file->data = data;
    file->capacity = capacity;
    return SQLITE_OK;
}

static int memory_write(sqlite3_file *base, const void *in, int amount, sqlite3_int64 offset) {
    MemoryFile *file = (MemoryFile *)base;
    sqlite3_int64 end = offset + amount;
    int rc = reserve(file, end);
    if (rc != SQLITE_OK) return rc;
    if (offset > file->size) memset(file->data + file->size, 0, (size_t)(offset - file->size));
    memcpy(file->data + offset, in, (size_t)amount);
    if (end > file->size) file->size = end;
    return SQLITE_OK;
}

static int memory_truncate(sqlite3_file *base, sqlite3_int64 size) {
    MemoryFile *file = (MemoryFile *)base;
    if (size < file->size) {
        sodium_memzero(file->data + size, (size_t)(file->size - size));
        file->size = size;
    }
    return SQLITE_OK;
}

static int memory_sync(sqlite3_file *base, int flags) {
    (void)base;
    (void)flags;
    return SQLITE_OK;
}

static int memory_file_size(sqlite3_file *base, sqlite3_int64 *size) {
    *size = ((MemoryFile *)base)->size;
    return SQLITE_OK;
}

// Nothing else can see the file: locks always succeed.
static int memory_lock(sqlite3_file *base, int level) {
    (void)base;
    (void)level;
    return SQLITE_OK;
}

static int memory_check_reserved_lock(sqlite3_file *base, int *result) {
    (void)base;
    *result = 0;
    return SQLITE_OK;
}

static int memory_file_control(sqlite3_file *base, int op, void *argument) {
    (void)base;
    (void)op;
    (void)argument;
    return SQLITE_NOTFOUND;
}

static int memory_sector_size(sqlite3_file *base) {
    (void)base;
    return 512;
}

static int memory_device_characteristics(sqlite3_file *base) {
    (void)base;
    return SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}

static const sqlite3_io_methods memory_methods = {
    .iVersion = 1,
    .xClose = memory_close,
    .xRead = memory_read,
    .xWrite = memory_write,
    .xTruncate = memory_truncate,
    .xSync = memory_sync,
    .xFileSize = memory_file_size,
    .xLock = memory_lock,
    .xUnlock = memory_lock,
    .xCheckReservedLock = memory_check_reserved_lock,
    .xFileControl = memory_file_control,
    .xSectorSize = memory_sector_size,
    .xDeviceCharacteristics = memory_device_characteristics,
};

int memory_file_open(MemoryFile *file, int flags, int *out_flags) {
    memset(file, 0, sizeof *file);
    file->base.pMethods = &memory_methods;
    if (out_flags != NULL) *out_flags = flags;
    return SQLITE_OK;
}
