#include <pthread.h>
#include <string.h>
#include <sodium.h>
#include "cipher_vfs_internal.h"

// The keys of encrypted databases, by full path: a short list under a mutex (a process opens one or
// two replicas). Keys live in sodium_malloc'd memory: locked, guarded, zeroed when freed.

typedef struct KeyEntry {
    struct KeyEntry *next;
    char *path;
    unsigned char *key;
} KeyEntry;

static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;
static KeyEntry *keys;
static int key_count;

static KeyEntry *find(const char *path) {
    for (KeyEntry *entry = keys; entry != NULL; entry = entry->next) {
        if (strcmp(entry->path, path) == 0) return entry;
    }
    return NULL;
}

int cipher_vfs_set_key(const char *path, const unsigned char *key) {
    char *full = cipher_vfs_full_path(path);
    if (full == NULL) return SQLITE_MISUSE;
    pthread_mutex_lock(&keys_lock);
    int rc = SQLITE_OK;
    KeyEntry *entry = find(full);
    if (entry != NULL) {
        memcpy(entry->key, key, CIPHER_VFS_KEY_BYTES);
        sqlite3_free(full);
    } else {
        entry = sqlite3_malloc(sizeof *entry);
        unsigned char *copy = sodium_malloc(CIPHER_VFS_KEY_BYTES);
        if (entry == NULL || copy == NULL) {
            sqlite3_free(entry);
            if (copy != NULL) sodium_free(copy);
            sqlite3_free(full);
            rc = SQLITE_NOMEM;
        } else {
            memcpy(copy, key, CIPHER_VFS_KEY_BYTES);
            entry->path = full;
            entry->key = copy;
            entry->next = keys;
            keys = entry;
            key_count += 1;
        }
    }
    pthread_mutex_unlock(&keys_lock);
    return rc;
}

void cipher_vfs_forget(const char *path) {
    char *full = cipher_vfs_full_path(path);
    if (full == NULL) return;
    pthread_mutex_lock(&keys_lock);
    for (KeyEntry **link = &keys; *link != NULL; link = &(*link)->next) {
        KeyEntry *entry = *link;
        if (strcmp(entry->path, full) != 0) continue;
        *link = entry->next;
        sodium_free(entry->key);
        sqlite3_free(entry->path);
        sqlite3_free(entry);
        key_count -= 1;
        break;
    }
    pthread_mutex_unlock(&keys_lock);
    sqlite3_free(full);
}

int cipher_keys_lookup(const char *path, unsigned char *key) {
    pthread_mutex_lock(&keys_lock);
    KeyEntry *entry = find(path);
    if (entry != NULL) memcpy(key, entry->key, CIPHER_VFS_KEY_BYTES);
    pthread_mutex_unlock(&keys_lock);
    return entry != NULL;
}

int cipher_keys_any(void) {
    pthread_mutex_lock(&keys_lock);
    int any = key_count > 0;
    pthread_mutex_unlock(&keys_lock);
    return any;
}
