#define _GNU_SOURCE
#include "bt_sys.h"

#include <errno.h>
#include <sys/vfs.h>

int bt_fs_magic(const char *path, unsigned long *magic)
{
	struct statfs info;

	if (statfs(path, &info) != 0)
		return -errno;
	*magic = (unsigned long)info.f_type;
	return 0;
}
