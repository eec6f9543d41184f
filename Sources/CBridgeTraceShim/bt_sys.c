#define _GNU_SOURCE
#include "bt_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

int bt_fs_magic(const char *path, unsigned long *magic)
{
	struct statfs info;

	if (statfs(path, &info) != 0)
		return -errno;
	*magic = (unsigned long)info.f_type;
	return 0;
}

int bt_pipe_cloexec(int fds[2])
{
	return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno;
}
