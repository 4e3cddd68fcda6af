#include <sys/prctl.h>
#include "casebook_process.h"

// The key agent's process hardening lives here only because this is the project's one C target:
// nothing in it is about SQLite.

int casebook_forbid_dumping(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int casebook_is_dumpable(void) {
    return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
}
