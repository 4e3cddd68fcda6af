#ifndef CSQLITE_TUNING_H
#define CSQLITE_TUNING_H

/// Process-wide SQLite settings that `sqlite3_config` (variadic, so not callable from Swift)
/// takes before SQLite is first used. Returns SQLite's result code (SQLITE_MISUSE once SQLite
/// is already initialized: the settings then stay SQLite's defaults).
int casebook_sqlite_tune(void);

#endif
