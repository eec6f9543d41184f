/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-frame events into a ring buffer, behind a pre-filter set in .rodata. With
 * bt_config.events == 0 (counters only) the verifier prunes all of this away.
 *
 * A program whose config cannot be .rodata (the switch: it runs before anyone traces)
 * defines BT_EVENT_CONFIG, BT_EVENT_SAMPLE_EVERY and BT_EVENT_WAKEUP_EVENTS to its own
 * writable globals before including this file; the code below is the same.
 */
#ifndef BT_EVENTS_BPF_H
#define BT_EVENTS_BPF_H

#include "classify.bpf.h"

#ifndef BT_EVENT_CONFIG
const volatile struct bt_trace_config bt_config = {
	.events = 0,
	.kinds = 0,
	.snaplen = BT_SNAPLEN_DEFAULT,
};
#define BT_EVENT_CONFIG bt_config
#define BT_EVENT_SAMPLE_EVERY bt_sample_every
#define BT_EVENT_WAKEUP_EVENTS bt_wakeup_events

/* Ring-buffer wakeups: 0 wakes the reader on every event (the kernel's default). Else
 * every this many events on a CPU wake it and the rest are submitted with
 * BPF_RB_NO_WAKEUP; the reader also polls on a short timer, so a quiet bridge's events
 * are late by at most that timer, never stuck. Counted per CPU rather than asking the ring
 * how full it is (BPF_RB_AVAIL_DATA): that reads the consumer's position, a cache line
 * the reader writes after every record, and cost more than the rest of the event. */
const volatile __u32 bt_wakeup_events = 0;
/* --sample N: one event in N of those the pre-filter passes (per CPU); 0 or 1 = all. */
const volatile __u32 bt_sample_every = 0;
#endif

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bt_trace_stats);
} bt_trace_stats SEC(".maps");

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

/* The pre-filter's host, VLAN and MAC: cheap checks that can only drop frames the full
 * libpcap filter in userspace would drop too. */
static __always_inline int bt_event_matches(void *data, void *data_end, const struct bt_class *cls)
{
	struct ethhdr *eth = data;

	if (BT_EVENT_CONFIG.host_ip && cls->ip_a != BT_EVENT_CONFIG.host_ip && cls->ip_b != BT_EVENT_CONFIG.host_ip)
		return 0;
	if (BT_EVENT_CONFIG.vlan_set && (!cls->tagged || cls->vlan_id != BT_EVENT_CONFIG.vlan_id))
		return 0;
	if (BT_EVENT_CONFIG.mac_set) {
		if ((void *)(eth + 1) > data_end)
			return 0;
		if (!bt_mac_equal(eth->h_source, BT_EVENT_CONFIG.mac) && !bt_mac_equal(eth->h_dest, BT_EVENT_CONFIG.mac))
			return 0;
	}
	return 1;
}

/* The kernel half of the trace filter. Returns the event kind, or 0 to skip. */
static __always_inline __u32 bt_event_wanted(void *data, void *data_end, const struct bt_class *cls)
{
	__u32 kind;

	if (!BT_EVENT_CONFIG.events)
		return 0;
	kind = bt_event_kind(cls);
	if (!(BT_EVENT_CONFIG.kinds & BT_KIND_BIT(kind)))
		return 0;
	if (!bt_event_matches(data, data_end, cls))
		return 0;
	if (BT_EVENT_SAMPLE_EVERY > 1) {
		__u32 slot = 0;
		struct bt_trace_stats *st = bpf_map_lookup_elem(&bt_trace_stats, &slot);

		if (st && st->v[BT_STAT_SAMPLE_SEEN]++ % BT_EVENT_SAMPLE_EVERY != 0) {
			st->v[BT_STAT_SAMPLE_SKIPPED] += 1;
			return 0;
		}
	}
	return kind;
}

/* Bytes of frame an event record has room for: the snap length rounded up to a size
 * class, so that the reservation is a constant (bt_config is .rodata) and a short snap
 * makes short records: less ring, less memory traffic, fewer bytes for userspace. */
#define BT_EVENT_HEADER_BYTES __builtin_offsetof(struct bt_frame_event, data)

static __always_inline __u32 bt_event_room(void)
{
	__u32 snap = BT_EVENT_CONFIG.snaplen;

	if (snap <= 64)
		return 64;
	if (snap <= 96)
		return 96;
	if (snap <= 128)
		return 128;
	if (snap <= 192)
		return 192;
	return BT_SNAPLEN_MAX;
}

/* How many bytes to copy into the event: caplen if it fits the record's room, else 0 (copy
 * nothing). Verifiers before 6.8 (Debian's 6.1 and 6.12 among them) learn nothing from
 * `n != 0`, nor from a bound clang puts on a scratch copy (it turns `n && n <= room` into
 * `n - 1 < room`), and refuse a length that may be 0 ("invalid zero-sized read"). So the
 * bound is made in asm, on the register itself, by arithmetic every verifier tracks:
 * n - 1 < room, then + 1, gives [1, room]; anything else becomes the constant 0. The mask
 * clears what a 32-bit spill may leave unknown above the snap length. */
static __always_inline __u64 bt_copy_len_room(__u32 caplen, __u32 room)
{
	__u64 n = caplen;

	asm volatile("%[n] &= 0xffff\n\t"
		     "%[n] += -1\n\t"
		     "if %[n] < %[room] goto +2\n\t"
		     "%[n] = 0\n\t"
		     "goto +1\n\t"
		     "%[n] += 1\n\t"
		     : [n] "+r"(n)
		     : [room] "r"(room));
	return n;
}

/* The load-bytes helpers with a 64-bit length. With the UAPI's 32-bit one clang passes a
 * 32-bit copy of the length (w4 = w9), which verifiers before 6.8 do not link to the
 * register that was checked against 0, so the check is lost; a 64-bit move keeps it. */
static long (* const bt_xdp_load_bytes)(struct xdp_md *ctx, __u32 offset, void *buf, __u64 len) =
	(void *)BPF_FUNC_xdp_load_bytes;
static long (* const bt_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u64 len) =
	(void *)BPF_FUNC_skb_load_bytes;

/* With a writable config, read the room once (bt_event_room) and pass it to both
 * bt_event_reserve_room and bt_copy_len_room: a second read may see another snap length. */
static __always_inline __u64 bt_copy_len(__u32 caplen)
{
	return bt_copy_len_room(caplen, bt_event_room());
}

/* Submit flags: see bt_wakeup_events. */
static __always_inline __u64 bt_wakeup_flags(void)
{
	__u32 slot = 0;
	struct bt_trace_stats *st;

	if (!BT_EVENT_WAKEUP_EVENTS)
		return 0;
	st = bpf_map_lookup_elem(&bt_trace_stats, &slot);
	if (!st)
		return 0;
	if (++st->v[BT_STAT_SINCE_WAKEUP] < BT_EVENT_WAKEUP_EVENTS)
		return BPF_RB_NO_WAKEUP;
	st->v[BT_STAT_SINCE_WAKEUP] = 0;
	return BPF_RB_FORCE_WAKEUP;
}

static __always_inline void bt_count_lost(void)
{
	__u32 slot = BT_LOST_SLOT;
	__u64 *lost = bpf_map_lookup_elem(&bt_lost, &slot);

	if (lost)
		*lost += 1;
}

/* Reserves and fills the header; the caller copies the bytes (at most bt_event_room())
 * and submits. NULL when the ring is full, which is counted, never waited for. The record
 * is BT_EVENT_HEADER_BYTES + bt_event_room() long, not sizeof(struct bt_frame_event). */
static __always_inline struct bt_frame_event *bt_event_reserve_room(const struct bt_class *cls, __u32 kind,
								    __u32 ifindex, __u32 dir, __u32 len,
								    __u32 room, __u32 *caplen)
{
	struct bt_frame_event *e = bpf_ringbuf_reserve(&bt_events, BT_EVENT_HEADER_BYTES + room, 0);
	__u32 snap = BT_EVENT_CONFIG.snaplen;

	if (!e) {
		bt_count_lost();
		return NULL;
	}
	if (snap > room)
		snap = room;
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
	e->drop_reason = 0;
	return e;
}

static __always_inline struct bt_frame_event *bt_event_reserve(const struct bt_class *cls, __u32 kind,
							       __u32 ifindex, __u32 dir, __u32 len,
							       __u32 *caplen)
{
	return bt_event_reserve_room(cls, kind, ifindex, dir, len, bt_event_room(), caplen);
}

#endif /* BT_EVENTS_BPF_H */
