// SPDX-License-Identifier: GPL-2.0
/* Programs that tell, loaded by bpftool and run by a test, whether the kernel offers what
 * `bridgetrace doctor` says it does. Built with -DADJUST_META or -DLOAD_BYTES, or plain (a
 * program that drops its frame, for a live-frames test run that sends nothing). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int doctor_probe(struct xdp_md *ctx)
{
#if defined(ADJUST_META)
	if (bpf_xdp_adjust_meta(ctx, -8))
		return XDP_ABORTED;
	return XDP_PASS;
#elif defined(LOAD_BYTES)
	char buf[8];

	if (bpf_xdp_load_bytes(ctx, 0, buf, sizeof(buf)))
		return XDP_ABORTED;
	return XDP_PASS;
#else
	return XDP_DROP;
#endif
}

char LICENSE[] SEC("license") = "GPL";
