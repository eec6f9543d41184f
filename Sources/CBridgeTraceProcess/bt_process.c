#define _GNU_SOURCE
#include "bt_process.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int bt_pipe_cloexec(int fds[2])
{
	return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno;
}
