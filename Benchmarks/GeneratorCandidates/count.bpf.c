// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The sink of generator-candidates.sh: counts every frame per CPU and drops it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bt_cand_count SEC(".maps");

SEC("xdp")
int bt_cand_sink(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&bt_cand_count, &key);

	if (count)
		*count += 1;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
