#ifndef CASEBOOK_PROCESS_H
#define CASEBOOK_PROCESS_H

/// Makes this process non-dumpable: no core dump, and other processes of the same user can
/// neither attach a debugger (ptrace) nor read its memory through /proc. `prctl` is variadic,
/// so Swift cannot call it. Returns 0, or -1 with errno set.
int casebook_forbid_dumping(void);

/// Whether this process may be dumped or traced (1), or not (0); -1 with errno set on failure.
int casebook_is_dumpable(void);

/// Asks the kernel to start writing `length` bytes of `fd` from `offset` to disk, without waiting
/// (`sync_file_range` with SYNC_FILE_RANGE_WRITE on Linux; nothing elsewhere). Returns 0, or -1 with errno set.
int casebook_start_writeback(int fd, long long offset, long long length);

#endif
