#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/prctl.h>
#include "casebook_process.h"

// The key agent's process hardening (and one file call) live here because C is needed for them:
// nothing in it is about SQLite.

int casebook_forbid_dumping(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int casebook_is_dumpable(void) {
    return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
}

// Starting a file's writeback early is a GNU extension that Swift's Glibc module leaves out.
int casebook_start_writeback(int fd, long long offset, long long length) {
#ifdef __linux__
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}

// O_DIRECT is a GNU extension too.
int casebook_direct_io_flag(void) {
#ifdef O_DIRECT
    return O_DIRECT;
#else
    return 0;
#endif
}
