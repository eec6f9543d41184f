// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Programs that do nothing but pass: the zero points that benchmarks subtract. Never
 * attached by the tool itself.
 * - bt_bench_pass: the XDP_PASS baseline of bt-progbench (BPF_PROG_TEST_RUN).
 * - bt_floor_*: `bench --with-tracer floor`, on the very hooks `counters` uses (XDP or tc
 *   ingress for rx, tc egress for tx), so each tracer's figure splits into the cost of
 *   the hook itself and the cost of our program.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bt_bench_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int bt_floor_tc_rx(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

SEC("tc")
int bt_floor_tc_tx(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
