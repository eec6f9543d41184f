#pragma once
#include <stdint.h>

/* Runs the program `repeat` times over `frame` with BPF_PROG_TEST_RUN. On success
 * returns 0 and stores the kernel's mean time per run (ns, truncated) and the program's
 * return value of the last run; `wall_ns` gets the whole syscall's CLOCK_MONOTONIC time.
 * Returns -errno on failure. */
int bench_test_run(int prog_fd, const void *frame, uint32_t len, uint32_t repeat,
		   uint32_t *duration_ns, uint32_t *retval, uint64_t *wall_ns);

/* Pins the calling thread to one CPU (sched_setaffinity needs _GNU_SOURCE, which Swift's
 * Glibc module does not see). Returns 0 or -errno. */
int bench_pin_cpu(int cpu);
