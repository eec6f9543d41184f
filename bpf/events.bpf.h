/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-frame events into a ring buffer, behind a pre-filter set in .rodata. With
 * bt_config.events == 0 (counters only) the verifier prunes all of this away.
 */
#ifndef BT_EVENTS_BPF_H
#define BT_EVENTS_BPF_H

#include "classify.bpf.h"

const volatile struct bt_trace_config bt_config = {
	.events = 0,
	.kinds = 0,
	.snaplen = BT_SNAPLEN_DEFAULT,
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BT_RINGBUF_DEFAULT_BYTES);
} bt_events SEC(".maps");

/* Reservations that failed because the consumer fell behind (slot BT_LOST_SLOT). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bt_lost SEC(".maps");

static __always_inline __u32 bt_event_kind(const struct bt_class *cls)
{
	switch (cls->counter) {
	case BT_CTR_ARP_REQUEST:
	case BT_CTR_ARP_REPLY:
	case BT_CTR_ARP_OTHER:
		return BT_KIND_ARP;
	case BT_CTR_ICMP_ECHO_REQUEST:
	case BT_CTR_ICMP_ECHO_REPLY:
	case BT_CTR_ICMP_UNREACHABLE:
	case BT_CTR_ICMP_OTHER:
		return BT_KIND_ICMP;
	case BT_CTR_ICMP6:
		return BT_KIND_ICMP6;
	case BT_CTR_DHCP:
		return BT_KIND_DHCP;
	default:
		return cls->tagged ? BT_KIND_VLAN : BT_KIND_OTHER;
	}
}

static __always_inline int bt_mac_equal(const __u8 *a, const volatile __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] &&
	       a[5] == b[5];
}

/* The kernel half of the trace filter: cheap checks that can only drop frames the full
 * libpcap filter in userspace would drop too. Returns the event kind, or 0 to skip. */
static __always_inline __u32 bt_event_wanted(void *data, void *data_end, const struct bt_class *cls)
{
	struct ethhdr *eth = data;
	__u32 kind;

	if (!bt_config.events)
		return 0;
	kind = bt_event_kind(cls);
	if (!(bt_config.kinds & BT_KIND_BIT(kind)))
		return 0;
	if (bt_config.host_ip && cls->ip_a != bt_config.host_ip && cls->ip_b != bt_config.host_ip)
		return 0;
	if (bt_config.vlan_set && (!cls->tagged || cls->vlan_id != bt_config.vlan_id))
		return 0;
	if (bt_config.mac_set) {
		if ((void *)(eth + 1) > data_end)
			return 0;
		if (!bt_mac_equal(eth->h_source, bt_config.mac) && !bt_mac_equal(eth->h_dest, bt_config.mac))
			return 0;
	}
	return kind;
}

static __always_inline void bt_count_lost(void)
{
	__u32 slot = BT_LOST_SLOT;
	__u64 *lost = bpf_map_lookup_elem(&bt_lost, &slot);

	if (lost)
		*lost += 1;
}

/* Reserves and fills the header; the caller copies the bytes and submits. NULL when the
 * ring is full, which is counted, never waited for. */
static __always_inline struct bt_frame_event *bt_event_reserve(const struct bt_class *cls, __u32 kind,
							       __u32 ifindex, __u32 dir, __u32 len,
							       __u32 *caplen)
{
	struct bt_frame_event *e = bpf_ringbuf_reserve(&bt_events, sizeof(*e), 0);
	__u32 snap = bt_config.snaplen;

	if (!e) {
		bt_count_lost();
		return NULL;
	}
	if (snap > BT_SNAPLEN_MAX)
		snap = BT_SNAPLEN_MAX;
	*caplen = len < snap ? len : snap;
	e->time_ns = bpf_ktime_get_ns();
	e->ifindex = ifindex;
	e->len = len;
	e->caplen = (__u16)*caplen;
	e->dir = (__u8)dir;
	e->kind = (__u8)kind;
	e->vlan_offload_tci = 0;
	e->vlan_offload_tpid = 0;
	e->dhcp_msg_type = (__u8)cls->dhcp_type;
	return e;
}

#endif /* BT_EVENTS_BPF_H */
