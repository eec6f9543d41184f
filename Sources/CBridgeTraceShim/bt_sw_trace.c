#include "bt_sw_trace.h"

#include <errno.h>
#include <string.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "bridgetrace.h"

/* Larger than any UMEM frame (2048) and than an XDP test run takes without frags. */
#define BT_SW_TRACE_FRAME_MAX 3072u

int bt_sw_trace_run(int prog_fd, uint32_t ifindex, uint32_t dir, uint32_t reason, const uint8_t *frame,
		    uint32_t len)
{
	uint8_t buffer[sizeof(struct bt_sw_trace_meta) + BT_SW_TRACE_FRAME_MAX];
	struct bt_sw_trace_meta meta = { .reason = reason, .dir = dir };
	/* The test run takes ctx->data bytes of data_in as metadata, the rest as the frame. */
	struct xdp_md ctx = {
		.data = sizeof(meta),
		.data_end = sizeof(meta) + len,
		.ingress_ifindex = ifindex,
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buffer, .data_size_in = sizeof(meta) + len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

	if (len < 14 || len > BT_SW_TRACE_FRAME_MAX)
		return -EMSGSIZE;
	memcpy(buffer, &meta, sizeof(meta));
	memcpy(buffer + sizeof(meta), frame, len);
	if (bpf_prog_test_run_opts(prog_fd, &opts) < 0)
		return errno ? -errno : -EIO;
	return 0;
}
