#include <sqlite3.h>
#include "csqlite_tuning.h"

int casebook_sqlite_tune(void) {
    // No memory statistics: otherwise every SQLite allocation takes a process-wide mutex
    // (about 5% of an initial pull's CPU here). Nothing in Casebook reads those statistics.
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
