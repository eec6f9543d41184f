#pragma once
/*
 * C halves of `bridgetrace bench` (bt_bench_*): the BPF_PROG_TEST_RUN call in live-frames
 * mode, whose opts struct only LIBBPF_OPTS fills safely, and the userspace senders
 * (AF_XDP, AF_PACKET), whose per-frame loop is too hot for Swift's bounds-checked buffers.
 */
#include <stdint.h>

#include "bridgetrace.h"

/* BPF_F_TEST_XDP_LIVE_FRAMES from linux/bpf.h, which libbpf 1.1's headers may predate. */
#define BT_BENCH_F_TEST_XDP_LIVE_FRAMES 2u

/*
 * Runs the XDP program prog_fd `repeat` times over `frame` in live-frames mode, `batch`
 * runs per batch (1..256), as if each frame arrived on ingress_ifindex. *duration_ns gets
 * the kernel's time for the whole loop (its mean per run times repeat). 0 or -errno.
 */
int bt_bench_xdp_live_run(int prog_fd, const void *frame, uint32_t len, uint32_t ingress_ifindex,
			  uint32_t repeat, uint32_t batch, uint64_t *duration_ns);

/* An AF_PACKET socket bound to ifindex that bypasses the qdisc layer. fd or -errno. */
int bt_bench_packet_open(int ifindex);

/* Most frames a userspace sender hands the kernel per call. */
#define BT_BENCH_SEND_BATCH_MAX 64u

/*
 * Sends copies of `frame` on fd the way bench_gen.bpf.c does: stamp (CLOCK_MONOTONIC,
 * the clock of bpf_ktime_get_ns, read per frame), sequence number, flow fields, pacing by
 * gen->config.gap_ns; updates gen->state. Returns when gen->config.limit frames are sent
 * or CLOCK_MONOTONIC reaches until_ns. Up to `batch` frames go per sendmmsg (1..64;
 * paced, the frames that are due). 0 or -errno of a failed send (ENOBUFS is retried).
 */
int bt_bench_packet_run(int fd, const void *frame, uint32_t len, struct bt_bench_gen *gen,
			uint64_t until_ns, uint32_t batch);

struct bt_xsk;

/*
 * The same as bt_bench_packet_run through an AF_XDP socket (bt_xsk_open, copy mode): each
 * frame is copied into the UMEM and sent with sendto; returns once the kernel has taken
 * every frame. -EMSGSIZE for a frame larger than a UMEM frame, -ETIMEDOUT when the port
 * took nothing for a second.
 */
int bt_bench_xsk_run(struct bt_xsk *xsk, const void *frame, uint32_t len, struct bt_bench_gen *gen,
		     uint64_t until_ns, uint32_t batch);

/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(). */
uint64_t bt_bench_now_ns(void);

/* Pins thread `tid` (0: the calling thread) to one CPU. 0 or -errno. */
int bt_bench_pin(int tid, int cpu);

/* SCHED_FIFO at `priority` for thread `tid`. 0 or -errno. */
int bt_bench_realtime(int tid, int priority);
