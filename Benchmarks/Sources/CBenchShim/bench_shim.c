#define _GNU_SOURCE
#include "CBenchShim.h"

#include <errno.h>
#include <sched.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int bench_test_run(int prog_fd, const void *frame, uint32_t len, uint32_t repeat,
		   uint32_t *duration_ns, uint32_t *retval, uint64_t *wall_ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .repeat = repeat);
	uint64_t start = now_ns();
	int rc = bpf_prog_test_run_opts(prog_fd, &opts);
	uint64_t end = now_ns();

	if (rc < 0)
		return errno ? -errno : rc;
	*duration_ns = opts.duration;
	*retval = opts.retval;
	*wall_ns = end - start;
	return 0;
}

int bench_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}
