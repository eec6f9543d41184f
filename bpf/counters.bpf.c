// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-port, per-direction frame counters. The programs only read: XDP returns XDP_PASS
 * and tc returns TC_ACT_UNSPEC, so forwarding is never changed.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "classify.bpf.h"

/* rx: every frame the bridge receives on the port, before the stack sees it. */
SEC("xdp")
int bt_xdp_rx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	bt_count(data, data_end, (__u32)(data_end - data), ctx->ingress_ifindex, BT_DIR_RX, 0, 0);
	return XDP_PASS;
}

/* rx, when XDP is taken by a foreign program that libxdp cannot share the port with. */
SEC("tc")
int bt_tc_rx(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	bt_count(data, data_end, skb->len, skb->ifindex, BT_DIR_RX, skb->vlan_present,
		 (__u16)skb->vlan_tci);
	return TC_ACT_UNSPEC;
}

/* tx: every frame the bridge transmits out of the port (clsact egress). */
SEC("tc")
int bt_tc_tx(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	bt_count(data, data_end, skb->len, skb->ifindex, BT_DIR_TX, skb->vlan_present,
		 (__u16)skb->vlan_tci);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
