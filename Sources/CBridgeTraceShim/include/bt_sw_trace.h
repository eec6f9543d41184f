#pragma once
/*
 * Trace events for what a switch's userspace sends with AF_XDP TX or drops: the frame is
 * run through the switch object's bt_sw_trace_user program (BPF_PROG_TEST_RUN), which
 * emits it into the switch's ring buffer with the same code and format as its XDP path.
 */
#include <stdint.h>

/* Runs prog_fd over `frame` as if received on `ifindex`, with struct bt_sw_trace_meta
 * {reason, dir} as XDP metadata. 0, or -errno (the caller counts it as a lost event). */
int bt_sw_trace_run(int prog_fd, uint32_t ifindex, uint32_t dir, uint32_t reason, const uint8_t *frame,
		    uint32_t len);
