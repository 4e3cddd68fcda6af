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

/// The open flag for direct I/O (`O_DIRECT`: reads and writes between the process's memory and the
/// disk, past the page cache), which Swift's Glibc module leaves out; 0 where there is none.
int casebook_direct_io_flag(void);

#endif
