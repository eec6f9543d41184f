// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel drops on watched ports: skbs freed through kfree_skb with a drop reason, whose
 * skb->dev is a watched port in the watched network namespace. Counted per (port,
 * reason, location) and, when enabled, emitted as events with the first bytes of the
 * frame.
 *
 * This runs for every skb the kernel frees, on every device, so the common case (not a
 * watched port) must leave fast: a NULL dev, then one array lookup by ifindex, before
 * anything else is read. No vmlinux.h: the few kernel fields read are declared here (and
 * in netdev.bpf.h) with preserve_access_index, and libbpf relocates them against the
 * running kernel's BTF.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "bridgetrace.h"
#include "netdev.bpf.h"

struct sk_buff {
	struct net_device *dev;
	unsigned int len;
	__u16 mac_header;
	__be16 vlan_proto;
	__u16 vlan_tci;
	unsigned char *head;
	unsigned char *data;
	unsigned int tail; /* sk_buff_data_t: an offset from head on 64-bit */
} __attribute__((preserve_access_index));

const volatile struct bt_drop_config bt_drop_cfg = {
	.netns_inum = 0,
	.ignored_count = 0,
	.events = 1,
};

/* Watched ports: ifindex < BT_DIRECT_IFINDEX_MAX here (value 1 = watched)... */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BT_DIRECT_IFINDEX_MAX);
	__type(key, __u32);
	__type(value, __u8);
} bt_drop_ports SEC(".maps");

/* ...and larger ifindexes here. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BT_DROP_BIG_PORTS_MAX);
	__type(key, __u32);
	__type(value, __u8);
} bt_drop_big_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, BT_DROP_KEYS_MAX);
	__type(key, struct bt_drop_key);
	__type(value, __u64);
} bt_drop_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BT_DROP_RINGBUF_BYTES);
} bt_drop_events SEC(".maps");

/* Events the ring buffer had no room for, and counts the full hash could not take. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BT_DROP_LOST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} bt_drop_lost SEC(".maps");

static __always_inline void bt_drop_count_lost(__u32 slot)
{
	__u64 *lost = bpf_map_lookup_elem(&bt_drop_lost, &slot);

	if (lost)
		*lost += 1;
}

static __always_inline int bt_drop_watched(__u32 ifindex)
{
	__u8 *hit;

	if (ifindex < BT_DIRECT_IFINDEX_MAX) {
		hit = bpf_map_lookup_elem(&bt_drop_ports, &ifindex);
		return hit && *hit;
	}
	hit = bpf_map_lookup_elem(&bt_drop_big_ports, &ifindex);
	return hit && *hit;
}

static __always_inline int bt_drop_ignored(__u32 reason)
{
	__u32 i;

#pragma unroll
	for (i = 0; i < BT_DROP_IGNORED_MAX; i++) {
		if (i < bt_drop_cfg.ignored_count && reason == bt_drop_cfg.ignored[i])
			return 1;
	}
	return 0;
}

static __always_inline void bt_drop_emit(struct sk_buff *skb, __u32 ifindex, __u32 reason, __u64 location)
{
	struct bt_drop_event *e;
	unsigned char *head, *data;
	__u16 mac;
	__u32 avail, cap;

	e = bpf_ringbuf_reserve(&bt_drop_events, sizeof(*e), 0);
	if (!e) {
		bt_drop_count_lost(BT_DROP_LOST_EVENTS);
		return;
	}
	e->time_ns = bpf_ktime_get_ns();
	e->location = location;
	e->ifindex = ifindex;
	e->reason = reason;
	e->len = BPF_CORE_READ(skb, len);
	e->mac_offset = 0;
	e->caplen = 0;
	e->vlan_proto = bpf_ntohs(BPF_CORE_READ(skb, vlan_proto));
	e->vlan_tci = e->vlan_proto ? BPF_CORE_READ(skb, vlan_tci) : 0;
	e->pad[0] = e->pad[1] = e->pad[2] = e->pad[3] = 0;

	/* mac_header is (u16)~0 while unset (skb_mac_header_was_set()). */
	mac = BPF_CORE_READ(skb, mac_header);
	if (mac != (__u16)~0U) {
		head = BPF_CORE_READ(skb, head);
		data = BPF_CORE_READ(skb, data);
		avail = BPF_CORE_READ(skb, tail);
		avail = avail > mac ? avail - mac : 0; /* linear bytes from the MAC header */
		if (data >= head + mac && data - (head + mac) < 0xffff)
			e->mac_offset = (__u16)(data - (head + mac));
		cap = avail < BT_DROP_SNAPLEN ? avail : BT_DROP_SNAPLEN;
		if (cap > 0 && cap <= BT_DROP_SNAPLEN &&
		    bpf_probe_read_kernel(e->data, cap, head + mac) == 0)
			e->caplen = (__u16)cap;
	}
	bpf_ringbuf_submit(e, 0);
}

/* btf: the program is tp_btf, whose arguments are BTF-typed pointers, so the fields the
 * filter reads for every freed skb load directly (one fault-safe load each). raw_tp sees
 * plain integers and must use bpf_probe_read_kernel, ~20 ns a field: four of them per
 * skb were ~100 ns on every frame a bench sink freed, on ports nobody watched. Checks
 * run cheapest first: the reason is in a register, the port costs loads. */
static __always_inline int bt_drop(struct sk_buff *skb, __u64 location, __u32 reason, const int btf)
{
	struct net_device *dev;
	struct bt_drop_key key;
	__u64 one = 1, *count;
	__u32 ifindex;

	if (!skb || bt_drop_ignored(reason))
		return 0;
	dev = btf ? skb->dev : BPF_CORE_READ(skb, dev);
	if (!dev)
		return 0;
	ifindex = (__u32)(btf ? dev->ifindex : BPF_CORE_READ(dev, ifindex));
	if (!bt_drop_watched(ifindex))
		return 0;
	/* The lab (and many hosts) reuse ifindex numbers in every namespace. */
	if (bt_drop_cfg.netns_inum &&
	    (btf ? dev->nd_net.net->ns.inum : BPF_CORE_READ(dev, nd_net.net, ns.inum)) != bt_drop_cfg.netns_inum)
		return 0;

	key.location = location;
	key.ifindex = ifindex;
	key.reason = reason;
	count = bpf_map_lookup_elem(&bt_drop_counts, &key);
	if (count) {
		*count += 1;
	} else {
		long rc = bpf_map_update_elem(&bt_drop_counts, &key, &one, BPF_NOEXIST);

		if (rc == -17 /* EEXIST: another CPU created the key first */) {
			count = bpf_map_lookup_elem(&bt_drop_counts, &key);
			if (count)
				*count += 1;
		} else if (rc) {
			bt_drop_count_lost(BT_DROP_LOST_KEYS); /* the hash is full */
		}
	}

	if (bt_drop_cfg.events)
		bt_drop_emit(skb, ifindex, reason, location);
	return 0;
}

/* TP_PROTO(struct sk_buff *skb, void *location, enum skb_drop_reason reason, struct sock *rx_sk):
 * only the first three are read, so kernels from 5.17 (reason added) on are served. */
SEC("tp_btf/kfree_skb")
int bt_drop_btf(__u64 *ctx)
{
	return bt_drop((struct sk_buff *)ctx[0], ctx[1], (__u32)ctx[2], 1);
}

/* The same, where tp_btf cannot attach (no BTF-typed tracing allowed). */
SEC("raw_tp/kfree_skb")
int bt_drop_raw(__u64 *ctx)
{
	return bt_drop((struct sk_buff *)ctx[0], ctx[1], (__u32)ctx[2], 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
