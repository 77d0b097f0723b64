/*
 * Files.  Reads are capped; writes go to a temporary file in the same
 * directory and are renamed into place, so a reader never sees a
 * half-written file.  Files are created with O_EXCL and O_NOFOLLOW.
 */
#ifndef S7_FS_H
#define S7_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "strbuf.h"

/*
 * Appends the contents of a regular file to sb (cap: sb->max).  FIFOs,
 * devices, sockets and directories are refused rather than read: a FIFO
 * with no writer, or /dev/zero, would block or never end.
 */
int fs_read(const char *path, struct strbuf *sb, struct s7_error *err);
int fs_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, struct s7_error *err);
/* Creates dir and its parents (mode 0755 unless given). */
int fs_mkdirs(const char *dir, mode_t mode, struct s7_error *err);
int fs_exists(const char *path);
/* Removes dir's regular files and subdirectories recursively. */
int fs_remove_tree(const char *dir, struct s7_error *err);
/*
 * Whether dir may be replaced by a tree of ours: absent (*exists 0), an
 * empty directory (removed, *exists 0), or a directory holding the file
 * marker which, when prefix is given, begins with it: an earlier output.
 * what ends the refusal: "... holds no WHAT".
 */
int fs_replaceable_dir(const char *dir, const char *marker,
    const char *prefix, const char *what, int *exists, struct s7_error *err);
/*
 * Puts the finished tree tmp in dir's place: dir (if it exists) is moved
 * aside, tmp renamed to dir, the old copy removed.  -1 with dir as it
 * was; 1 when tmp is in place but the old copy could not be removed
 * (err says where it is).
 */
int fs_swap_dir(const char *tmp, const char *dir, int exists,
    struct s7_error *err);

#endif
