// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark's traffic generator. Userspace runs this program with BPF_PROG_TEST_RUN
 * and BPF_F_TEST_XDP_LIVE_FRAMES over a template frame: every run is one frame, which the
 * program stamps (sequence number, TX time, flow) and redirects out of the generator's
 * port. It is also attached to a veth that is down (nothing ever arrives there), only to
 * keep it in the kernel's XDP dispatcher: a test run with repeat > 1 otherwise adds it to
 * the dispatcher and takes it out again, two RCU grace periods (10-30 ms) per syscall.
 *
 * Spin pacing (gap_ns set) happens here, not in userspace: a run whose slot has not come
 * yet returns XDP_DROP at once (a few tens of ns), so frames leave evenly spaced at any
 * rate, with nanosecond precision, at the cost of a whole CPU. Sleep pacing (gap_ns 0)
 * is userspace's: one syscall per burst, every run sends.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bridgetrace.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bt_bench_gen);
} bt_bench_gen SEC(".maps");

/* RFC 1624 incremental checksum update for one 16-bit word changing from old to new. */
static __always_inline __u16 bt_csum_replace(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check + (__u16)~old + new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Rewrites the per-flow fields. A frame page keeps what the previous run on it wrote, so
 * fields are set from the config, and the checksum is updated from the page's own
 * (consistent) address and checksum. */
static __always_inline void bt_set_flow(struct ethhdr *eth, struct iphdr *ip, struct udphdr *udp,
					const struct bt_bench_gen_config *cfg, __u32 flow)
{
	__u16 ip_lo = (__u16)(cfg->src_ip_lo + flow);
	__u16 old_lo = ((__u16 *)&ip->saddr)[1];
	__u16 new_lo = bpf_htons(ip_lo);

	eth->h_source[4] = (__u8)(flow >> 8);
	eth->h_source[5] = (__u8)flow;
	ip->check = bt_csum_replace(ip->check, old_lo, new_lo);
	((__u16 *)&ip->saddr)[1] = new_lo;
	udp->source = bpf_htons((__u16)(cfg->src_port + flow));
}

static __always_inline int bt_emit(void *data, void *data_end, __u32 l3_offset,
				   struct bt_bench_gen *gen, __u64 now)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + l3_offset;
	struct udphdr *udp = (void *)(ip + 1);
	struct bt_bench_stamp *stamp = (void *)(udp + 1);
	struct bt_bench_gen_config *cfg = &gen->config;
	__u64 seq = gen->state.sent;

	if ((void *)(stamp + 1) > data_end)
		return XDP_ABORTED;
	if (cfg->flows > 1)
		bt_set_flow(eth, ip, udp, cfg, (__u32)(seq % cfg->flows));
	stamp->seq = (__u32)seq;
	stamp->trial = cfg->trial;
	stamp->tx_ns = now;
	if (seq == 0)
		gen->state.first_ns = now;
	else if (now - gen->state.last_ns <= cfg->pause_ns)
		gen->state.busy_ns += now - gen->state.last_ns;
	gen->state.last_ns = now;
	gen->state.sent = seq + 1;
	return bpf_redirect(cfg->ifindex, 0);
}

SEC("xdp")
int bt_bench_gen_frame(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bt_bench_gen *gen;
	__u32 key = 0;
	__u64 now;

	gen = bpf_map_lookup_elem(&bt_bench_gen, &key);
	if (!gen)
		return XDP_ABORTED;
	/* Not a test run on the generator's port: a frame on the dispatcher-holding veth. */
	if (ctx->ingress_ifindex != gen->config.ifindex)
		return XDP_PASS;
	if (gen->state.sent >= gen->config.limit) {
		gen->state.idle += 1;
		return XDP_DROP;
	}
	now = bpf_ktime_get_ns();
	if (gen->config.gap_ns) {
		__u64 due = gen->state.next_due_ns;

		if (now < due) {
			gen->state.idle += 1;
			return XDP_DROP;
		}
		/* Late by a little (softirq work between two batches): catch up, so the
		 * mean rate holds. Late by a lot (between two syscalls): start afresh rather
		 * than send a burst. */
		if (now - due > gen->config.catchup_ns)
			due = now;
		gen->state.next_due_ns = due + gen->config.gap_ns;
	}
	/* Constant offsets, so the verifier can check the packet accesses. */
	if (gen->config.l3_offset == sizeof(struct ethhdr) + 4)
		return bt_emit(data, data_end, sizeof(struct ethhdr) + 4, gen, now);
	return bt_emit(data, data_end, sizeof(struct ethhdr), gen, now);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
