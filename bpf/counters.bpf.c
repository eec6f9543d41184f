// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-port, per-direction frame counters and, when enabled, per-frame events. The
 * programs only read: XDP returns XDP_PASS and tc returns TC_ACT_UNSPEC, so forwarding is
 * never changed.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "classify.bpf.h"
#include "events.bpf.h"

/* rx: every frame the bridge receives on the port, before the stack sees it. */
SEC("xdp")
int bt_xdp_rx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = (__u32)(data_end - data);
	struct bt_frame_event *e;
	struct bt_class cls;
	__u32 kind, caplen;
	__u64 copy;

	bt_count(data, data_end, len, ctx->ingress_ifindex, BT_DIR_RX, 0, 0, bt_config.events, &cls);
	kind = bt_event_wanted(data, data_end, &cls);
	if (!kind)
		return XDP_PASS;
	e = bt_event_reserve(&cls, kind, ctx->ingress_ifindex, BT_DIR_RX, len, &caplen);
	if (!e)
		return XDP_PASS;
	copy = bt_copy_len(caplen);
	if (!copy || bt_xdp_load_bytes(ctx, 0, e->data, copy))
		e->caplen = 0;
	bpf_ringbuf_submit(e, bt_wakeup_flags());
	return XDP_PASS;
}

static __always_inline int bt_tc(struct __sk_buff *skb, __u32 dir)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct bt_frame_event *e;
	struct bt_class cls;
	__u32 kind, caplen;
	__u64 copy;

	bt_count(data, data_end, skb->len, skb->ifindex, dir, skb->vlan_present,
		 (__u16)skb->vlan_tci, bt_config.events, &cls);
	kind = bt_event_wanted(data, data_end, &cls);
	if (!kind)
		return TC_ACT_UNSPEC;
	e = bt_event_reserve(&cls, kind, skb->ifindex, dir, skb->len, &caplen);
	if (!e)
		return TC_ACT_UNSPEC;
	if (skb->vlan_present) {
		e->vlan_offload_tci = (__u16)skb->vlan_tci;
		e->vlan_offload_tpid = bpf_ntohs((__be16)skb->vlan_proto);
	}
	/* skb_load_bytes reads paged data too, so the snap is not cut at the linear part. */
	copy = bt_copy_len(caplen);
	if (!copy || bt_skb_load_bytes(skb, 0, e->data, copy))
		e->caplen = 0;
	bpf_ringbuf_submit(e, bt_wakeup_flags());
	return TC_ACT_UNSPEC;
}

/* rx, when XDP is taken by a foreign program that libxdp cannot share the port with. */
SEC("tc")
int bt_tc_rx(struct __sk_buff *skb)
{
	return bt_tc(skb, BT_DIR_RX);
}

/* tx: every frame the bridge transmits out of the port (clsact egress). */
SEC("tc")
int bt_tc_tx(struct __sk_buff *skb)
{
	return bt_tc(skb, BT_DIR_TX);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
