// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for "somebody else's XDP program": counts every frame and passes it.
 * The coexistence test attaches it before bridgetrace and checks it keeps counting.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} foreign_count SEC(".maps");

SEC("xdp")
int foreign_xdp(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&foreign_count, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
