#pragma once
/*
 * System calls whose headers or flags Swift's Glibc module does not expose.
 */

/* statfs(2) f_type of path (sys/vfs.h is not in Swift's Glibc module). 0 or -errno. */
int bt_fs_magic(const char *path, unsigned long *magic);
