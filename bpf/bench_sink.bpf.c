// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark's receiver, attached with XDP to the sink port: the end of the line.
 * Counts the generator's frames of the current trial, detects reordering from their
 * sequence numbers and records one-way latency (now - TX stamp; one clock, one machine)
 * in a per-CPU log-linear histogram that userspace turns into an HdrHistogram. Bench
 * frames are dropped here; anything else is passed to the sink's stack.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bridgetrace.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bt_bench_sink_config);
} bt_bench_sink_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bt_bench_sink_stats);
} bt_bench_sink_stats SEC(".maps");

/* Position of the highest set bit, 1-based (fls64); v > 0. */
static __always_inline __u32 bt_fls64(__u64 v)
{
	__u32 n = 1;

	if (v >> 32) { n += 32; v >>= 32; }
	if (v >> 16) { n += 16; v >>= 16; }
	if (v >> 8) { n += 8; v >>= 8; }
	if (v >> 4) { n += 4; v >>= 4; }
	if (v >> 2) { n += 2; v >>= 2; }
	if (v >> 1) { n += 1; }
	return n;
}

/* Log-linear bucket of a latency in ns (see BT_BENCH_HIST_* in bridgetrace.h). */
static __always_inline __u32 bt_bucket(__u64 ns)
{
	const __u32 sub = BT_BENCH_HIST_SUB_BITS;
	__u32 exp;

	if (ns < (1ull << sub))
		return (__u32)ns;
	exp = bt_fls64(ns) - 1;
	if (exp >= BT_BENCH_HIST_MAX_EXP)
		return BT_BENCH_HIST_BUCKETS - 1;
	return ((exp - sub + 1) << sub) + (__u32)((ns >> (exp - sub)) & ((1u << sub) - 1));
}

/* xdp.frags: a jumbo frame (MTU 9000) arrives as several buffers; XDP on a veth with
 * such an MTU accepts only a program that says it copes. Headers are in the first. */
SEC("xdp.frags")
int bt_bench_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bt_bench_sink_config *cfg;
	struct bt_bench_sink_stats *st;
	struct bt_bench_stamp *stamp;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	struct iphdr *ip;
	__u64 now = bpf_ktime_get_ns();
	__u64 seq, latency;
	__u32 key = 0, slot;
	__u16 proto;

	st = bpf_map_lookup_elem(&bt_bench_sink_stats, &key);
	cfg = bpf_map_lookup_elem(&bt_bench_sink_cfg, &key);
	if (!st || !cfg)
		return XDP_PASS;
	if ((void *)(eth + 1) > data_end)
		goto other;
	proto = eth->h_proto;
	ip = (void *)(eth + 1);
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		__be16 *inner = (void *)(eth + 1);

		if ((void *)(inner + 2) > data_end)
			goto other;
		proto = inner[1];
		ip = (void *)(inner + 2);
	}
	if (proto != bpf_htons(ETH_P_IP) || (void *)(ip + 1) > data_end)
		goto other;
	/* The generator sends a bare 20-byte header. */
	if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		goto other;
	udp = (void *)(ip + 1);
	stamp = (void *)(udp + 1);
	if ((void *)(stamp + 1) > data_end || udp->dest != bpf_htons(BT_BENCH_UDP_PORT))
		goto other;

	if (stamp->trial != cfg->trial) {
		st->stale += 1;
		return XDP_DROP;
	}
	st->frames += 1;
	st->bytes += bpf_xdp_get_buff_len(ctx);
	seq = (__u64)stamp->seq + 1;
	if (seq < cfg->max_seq)
		st->reordered += 1;
	else
		cfg->max_seq = seq;
	if (stamp->tx_ns > now) {
		st->clock_skew += 1;
		return XDP_DROP;
	}
	latency = now - stamp->tx_ns;
	st->latency_sum_ns += latency;
	if (latency > st->latency_max_ns)
		st->latency_max_ns = latency;
	if (!st->latency_min_ns || latency < st->latency_min_ns)
		st->latency_min_ns = latency;
	slot = bt_bucket(latency);
	if (slot < BT_BENCH_HIST_BUCKETS)
		st->hist[slot] += 1;
	return XDP_DROP;

other:
	st->other += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
