// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bridgetrace switch: the XDP program on every port of the userspace switch.
 *
 * It counts the frame with the tracer's classify code (same counter maps, so `counters`
 * reads a switch like a bridge), assigns the frame its VLAN, learns (VLAN, source MAC)
 * -> port in the FDB, and then either redirects known unicast in the kernel (fast path,
 * with VLAN push/pop) or hands the frame to the port's AF_XDP socket with the decision
 * in XDP metadata, for userspace to flood or forward. Unlike the tracer's programs this
 * one forwards: it never returns XDP_PASS for a frame of a switch port.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "classify.bpf.h"

/* Set before load: 0 sends every frame through AF_XDP (--no-fast-path). */
const volatile __u32 bt_sw_fast_path = 1;
/* Set before load: 1 when the kernel does not offer bpf_xdp_adjust_meta to XDP programs
 * (probed; some builds refuse it). The decision for userspace then travels in-band, in
 * front of the frame (adjust_head), and userspace strips it. The verifier prunes the
 * branch not taken, helper call included, so either variant loads where it is allowed. */
const volatile __u32 bt_sw_meta_inband = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BT_SW_PORTS_MAX);
	__type(key, __u32);
	__type(value, struct bt_sw_port);
} bt_sw_ports SEC(".maps");

/* max_entries is --fdb-max, set before load. Not LRU: a full FDB refuses new entries
 * (counted) instead of silently evicting live ones. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BT_SW_FDB_DEFAULT_MAX);
	__type(key, struct bt_sw_fdb_key);
	__type(value, struct bt_sw_fdb_entry);
} bt_sw_fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bt_sw_info);
} bt_sw_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, BT_SW_PORTS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} bt_sw_tx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, BT_SW_XSK_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} bt_sw_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, BT_SW_PORTS_MAX * BT_SW_DROP_MAX);
	__type(key, struct bt_sw_drop_key);
	__type(value, __u64);
} bt_sw_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bt_sw_stats);
} bt_sw_stats SEC(".maps");

/* Written by userspace only (the program never touches them): what the switch sent
 * with AF_XDP TX, counted in the same layout as bt_counters / bt_vlan_frames, and the
 * drops userspace saw (XSK ring full, ...). Readers add them to the kernel's. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BT_SW_PORTS_MAX * BT_DIR_MAX);
	__type(key, struct bt_port_key);
	__type(value, struct bt_counters);
} bt_sw_utx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BT_VLAN_KEYS_MAX);
	__type(key, struct bt_vlan_key);
	__type(value, __u64);
} bt_sw_uvlan SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BT_SW_PORTS_MAX * BT_SW_DROP_MAX);
	__type(key, struct bt_sw_drop_key);
	__type(value, __u64);
} bt_sw_udrops SEC(".maps");

/* The learning shortcut: per CPU, the last source learnt or refreshed, with the second
 * and the FDB's move generation it was seen at. A frame from the same (VLAN, MAC) on the
 * same port within that second skips the FDB lookup: the entry already says so and its
 * last_seen is already this second. Any MAC move (on any CPU) bumps the generation, so a
 * move is never missed or undone by a stale shortcut. Entries userspace deletes are
 * aged ones (idle for seconds) or a vanished port's, which no shortcut of this second
 * can name. */
struct bt_sw_last_src {
	__u64 key;      /* struct bt_sw_fdb_key as one word */
	__u64 now_s;
	__u64 gen;
	__u32 ifindex;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bt_sw_last_src);
} bt_sw_last_src SEC(".maps");

/* MAC moves so far (all CPUs), the shortcut's generation. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bt_sw_fdb_gen SEC(".maps");

static __always_inline void bt_sw_stat(__u32 which)
{
	__u32 zero = 0;
	struct bt_sw_stats *s = bpf_map_lookup_elem(&bt_sw_stats, &zero);

	if (s && which < BT_SW_STAT_MAX)
		s->c[which] += 1;
}

static __always_inline void bt_sw_count_drop(__u32 ifindex, __u32 reason)
{
	struct bt_sw_drop_key key = { .ifindex = ifindex, .reason = reason };
	__u64 *n = bpf_map_lookup_elem(&bt_sw_drops, &key);

	if (n) {
		*n += 1;
	} else {
		__u64 one = 1;

		bpf_map_update_elem(&bt_sw_drops, &key, &one, BPF_NOEXIST);
	}
}

/* Called as bt_sw_drop(ifindex, reason); while traced it is bt_sw_drop_traced (below). */
static __always_inline int bt_sw_drop(__u32 ifindex, __u32 reason)
{
	bt_sw_count_drop(ifindex, reason);
	return XDP_DROP;
}

/* ---- Trace events (trace NAME, diagnose NAME): the bridge tracer's record format,
 * ring buffer and pre-filter code, with a config the tracer writes at run time ---- */

/* All zero at load: events off. Written by the tracer through the pinned map. */
struct bt_sw_trace bt_sw_trace SEC(".data.bt_sw_trace") = {};
#define BT_EVENT_CONFIG bt_sw_trace.config
#define BT_EVENT_SAMPLE_EVERY bt_sw_trace.sample_every
#define BT_EVENT_WAKEUP_EVENTS bt_sw_trace.wakeup_events
#include "events.bpf.h"

/*
 * One event of the frame as ctx holds it now (after any VLAN push/pop), classified again
 * with the addresses the pre-filter matches. reason != 0 makes it a drop event. A global
 * function: verified once on its own, and the forwarding code around its call sites pays
 * only the load and branch of bt_sw_tracing() while nobody traces.
 */
__noinline int bt_sw_emit(struct xdp_md *ctx, __u32 ifindex, __u32 dir, __u32 reason)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = (__u32)(data_end - data);
	struct bt_frame_event *e;
	struct bt_class cls;
	__u32 kind, caplen, room;
	__u64 copy;

	bt_classify(data, data_end, 0, 0, 1, &cls);
	if (reason) {
		if (!BT_EVENT_CONFIG.events || !(BT_EVENT_CONFIG.kinds & BT_KIND_BIT(BT_KIND_DROP)) ||
		    !bt_event_matches(data, data_end, &cls))
			return 0;
		kind = BT_KIND_DROP;
	} else {
		kind = bt_event_wanted(data, data_end, &cls);
		if (!kind)
			return 0;
	}
	room = bt_event_room();
	e = bt_event_reserve_room(&cls, kind, ifindex, dir, len, room, &caplen);
	if (!e)
		return 0;
	e->drop_reason = (__u8)reason;
	copy = bt_copy_len_room(caplen, room);
	if (!copy || bt_xdp_load_bytes(ctx, 0, e->data, copy))
		e->caplen = 0;
	bpf_ringbuf_submit(e, bt_wakeup_flags());
	return 1;
}

static __always_inline int bt_sw_tracing(void)
{
	return BT_EVENT_CONFIG.events;
}

static __always_inline void bt_sw_event(struct xdp_md *ctx, __u32 ifindex, __u32 dir)
{
	if (bt_sw_tracing())
		bt_sw_emit(ctx, ifindex, dir, 0);
}

/* A drop at the ingress port is rx, at the egress port (down, VLAN, MTU) tx. */
static __always_inline int bt_sw_drop_traced(struct xdp_md *ctx, __u32 ifindex, __u32 reason)
{
	if (bt_sw_tracing())
		bt_sw_emit(ctx, ifindex, ifindex == ctx->ingress_ifindex ? BT_DIR_RX : BT_DIR_TX, reason);
	return bt_sw_drop(ifindex, reason);
}

/* Every drop below becomes a drop event too, without touching the call sites: both
 * functions that drop (bt_sw_to_user, bt_sw_xdp) name their context ctx. */
#define bt_sw_drop(ifindex, reason) bt_sw_drop_traced(ctx, ifindex, reason)

/* Frames the switch's userspace sent with AF_XDP TX, or dropped, while traced: it runs
 * this with BPF_PROG_TEST_RUN (ingress_ifindex = the port) on the frame with a struct
 * bt_sw_trace_meta in front, so that they become events of the same ring, format and
 * classify code. In-band rather than XDP metadata: test runs take metadata only on some
 * kernels, adjust_head everywhere. */
SEC("xdp")
int bt_sw_trace_user(struct xdp_md *ctx)
{
	struct bt_sw_trace_meta *meta = (void *)(long)ctx->data;
	__u32 dir, reason;

	if ((void *)(meta + 1) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	dir = meta->dir;
	reason = meta->reason;
	if (bpf_xdp_adjust_head(ctx, (int)sizeof(*meta)))
		return XDP_ABORTED;
	if (bt_sw_tracing())
		bt_sw_emit(ctx, ctx->ingress_ifindex, dir, reason);
	return XDP_PASS;
}

/* ---- end of trace events ---- */

static __always_inline int bt_sw_carries(const struct bt_sw_port *port, __u32 vid)
{
	__u32 word = (vid >> 6) & (BT_SW_VLAN_WORDS - 1);

	return (port->vlans[word] >> (vid & 63)) & 1;
}

/* The tx count of a frame the fast path sends: the rx classification, with the tag the
 * egress port puts on it. */
static __always_inline void bt_sw_count_tx(__u32 ifindex, __u32 len, const struct bt_class *cls,
					   __u32 tagged, __u32 vid)
{
	struct bt_counters *c = bt_port_counters(ifindex, BT_DIR_TX);

	if (!c)
		return;
	c->c[BT_CTR_FRAMES] += 1;
	c->c[BT_CTR_BYTES] += len;
	if (cls->counter < BT_CTR_MAX)
		c->c[cls->counter] += 1;
	if (tagged) {
		c->c[BT_CTR_VLAN_TAGGED] += 1;
		bt_count_vlan(ifindex, BT_DIR_TX, vid);
	}
}

/* Learn the source; a full FDB is counted, the frame still goes on. */
static __always_inline void bt_sw_learn(struct ethhdr *eth, __u32 vid, __u32 ifindex, __u64 now)
{
	struct bt_sw_fdb_key key = { .vlan = (__u16)vid };
	struct bt_sw_fdb_entry *entry;
	struct bt_sw_last_src *last;
	__u64 *gen, word;
	__u32 zero = 0;

	if (eth->h_source[0] & 1)
		return; /* a multicast source is bogus: never learned */
	__builtin_memcpy(key.mac, eth->h_source, 6);
	__builtin_memcpy(&word, &key, sizeof(word));
	last = bpf_map_lookup_elem(&bt_sw_last_src, &zero);
	gen = bpf_map_lookup_elem(&bt_sw_fdb_gen, &zero);
	if (!last || !gen)
		return;
	if (last->key == word && last->ifindex == ifindex && last->now_s == now && last->gen == *gen)
		return;
	entry = bpf_map_lookup_elem(&bt_sw_fdb, &key);
	if (entry) {
		if (!(entry->flags & BT_SW_FDB_STATIC)) {
			if (entry->ifindex != ifindex) {
				entry->ifindex = ifindex;
				__sync_fetch_and_add(&entry->moves, 1);
				__sync_fetch_and_add(gen, 1);
				bt_sw_stat(BT_SW_STAT_MOVES);
			}
			if (entry->last_seen != now)
				entry->last_seen = now;
		}
		last->key = word;
		last->ifindex = ifindex;
		last->now_s = now;
		last->gen = *gen;
		return;
	}
	{
		struct bt_sw_fdb_entry fresh = { .ifindex = ifindex, .last_seen = now };

		if (bpf_map_update_elem(&bt_sw_fdb, &key, &fresh, BPF_NOEXIST) == 0)
			bt_sw_stat(BT_SW_STAT_LEARNED);
		else if (!bpf_map_lookup_elem(&bt_sw_fdb, &key)) /* not a race with another CPU */
			bt_sw_count_drop(ifindex, BT_SW_DROP_FDB_FULL);
	}
}

static __always_inline int bt_sw_to_user(struct xdp_md *ctx, const struct bt_sw_port *in, __u32 egress,
					 __u32 vid, const struct bt_class *cls, __u32 tagged)
{
	struct bt_sw_meta *meta;
	void *data;
	__u32 queue = ctx->rx_queue_index;

	if (queue >= in->xsk_queues)
		return bt_sw_drop(in->ifindex, BT_SW_DROP_NO_PORT);
	if (bt_sw_meta_inband) {
		if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*meta)))
			return bt_sw_drop(in->ifindex, BT_SW_DROP_NO_PORT);
		meta = (void *)(long)ctx->data;
		if ((void *)(meta + 1) > (void *)(long)ctx->data_end)
			return bt_sw_drop(in->ifindex, BT_SW_DROP_NO_PORT);
	} else {
		if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
			return bt_sw_drop(in->ifindex, BT_SW_DROP_NO_PORT);
		data = (void *)(long)ctx->data;
		meta = (void *)(long)ctx->data_meta;
		if ((void *)(meta + 1) > data)
			return bt_sw_drop(in->ifindex, BT_SW_DROP_NO_PORT);
	}
	meta->egress = egress;
	meta->vlan = (__u16)vid;
	meta->counter = (__u8)cls->counter;
	meta->tagged = (__u8)tagged;
	bt_sw_stat(BT_SW_STAT_TO_XSK);
	/* No socket in the slot (userspace is between sockets): the redirect fails and the
	 * lower bits of flags are the action, so count it rather than lose it (a drop event
	 * shows the frame as it came, without the in-band bytes). */
	if (bpf_redirect_map(&bt_sw_xsks, in->xsk_slot + queue, XDP_DROP) != XDP_REDIRECT) {
		if (bt_sw_meta_inband)
			bpf_xdp_adjust_head(ctx, (int)sizeof(*meta)); /* undoes the push above: cannot fail */
		return bt_sw_drop(in->ifindex, BT_SW_DROP_NO_PORT);
	}
	return XDP_REDIRECT;
}

SEC("xdp")
int bt_sw_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = (__u32)(data_end - data);
	__u32 ifindex = ctx->ingress_ifindex;
	struct bt_sw_fdb_entry *dst;
	struct bt_sw_fdb_key key = {};
	struct bt_sw_port *in, *out;
	struct bt_sw_info *info;
	struct bt_vlan_hdr *vh;
	struct ethhdr *eth = data;
	struct bt_class cls;
	__u32 zero = 0, vid, tagged = 0, out_tagged, l3len;
	__u8 macs[12];

	bt_count(data, data_end, len, ifindex, BT_DIR_RX, 0, 0, 0, &cls);
	bt_sw_event(ctx, ifindex, BT_DIR_RX);
	in = bpf_map_lookup_elem(&bt_sw_ports, &ifindex);
	info = bpf_map_lookup_elem(&bt_sw_info, &zero);
	if (!in || !info)
		return XDP_PASS; /* not (yet) a port of this switch */
	if ((void *)(eth + 1) > data_end)
		return bt_sw_drop(ifindex, BT_SW_DROP_NO_PORT);

	/* The frame's VLAN: its 802.1Q tag on a trunk, the port's pvid when untagged. A
	 * priority tag (VID 0) counts as untagged. */
	vid = in->pvid;
	vh = (void *)(eth + 1);
	if (eth->h_proto == bpf_htons(ETH_P_8021Q)) {
		if ((void *)(vh + 1) > data_end)
			return bt_sw_drop(ifindex, BT_SW_DROP_VLAN_NOT_ALLOWED);
		if (bpf_ntohs(vh->tci) & BT_VLAN_VID_MASK) {
			vid = bpf_ntohs(vh->tci) & BT_VLAN_VID_MASK;
			tagged = 1;
			if (in->mode != BT_SW_MODE_TRUNK)
				return bt_sw_drop(ifindex, BT_SW_DROP_VLAN_NOT_ALLOWED);
		}
	}
	if (vid == 0 || !bt_sw_carries(in, vid))
		return bt_sw_drop(ifindex, BT_SW_DROP_VLAN_NOT_ALLOWED);

	bt_sw_learn(eth, vid, ifindex, info->now_s);

	if (eth->h_dest[0] & 1)
		return bt_sw_to_user(ctx, in, 0, vid, &cls, tagged);
	__builtin_memcpy(key.mac, eth->h_dest, 6);
	key.vlan = (__u16)vid;
	dst = bpf_map_lookup_elem(&bt_sw_fdb, &key);
	if (!dst)
		return bt_sw_to_user(ctx, in, 0, vid, &cls, tagged);
	if (!(dst->flags & BT_SW_FDB_STATIC) && info->now_s - dst->last_seen > info->aging_s) {
		bt_sw_stat(BT_SW_STAT_EXPIRED);
		return bt_sw_to_user(ctx, in, 0, vid, &cls, tagged);
	}
	if (dst->ifindex == ifindex)
		return bt_sw_drop(ifindex, BT_SW_DROP_HAIRPIN);
	{
		__u32 egress = dst->ifindex;

		out = bpf_map_lookup_elem(&bt_sw_ports, &egress);
	}
	if (!out)
		return bt_sw_drop(ifindex, BT_SW_DROP_NO_PORT);
	if (!out->up)
		return bt_sw_drop(out->ifindex, BT_SW_DROP_PORT_DOWN);
	if (!bt_sw_carries(out, vid))
		return bt_sw_drop(out->ifindex, BT_SW_DROP_VLAN_NOT_ALLOWED);
	l3len = len - sizeof(*eth) - (tagged ? sizeof(*vh) : 0);
	if (out->mtu && l3len > out->mtu)
		return bt_sw_drop(out->ifindex, BT_SW_DROP_MTU_EXCEEDED);
	/* Without the fast path userspace still gets the kernel's FDB decision. */
	if (!out->redirect || !bt_sw_fast_path)
		return bt_sw_to_user(ctx, in, out->ifindex, vid, &cls, tagged);

	out_tagged = !(out->mode == BT_SW_MODE_ACCESS || vid == out->pvid);
	if (tagged && !out_tagged) {
		/* Pop: the inner EtherType already sits where the new header's ends. */
		__builtin_memcpy(macs, eth, 12);
		if (bpf_xdp_adjust_head(ctx, (int)sizeof(*vh)))
			return bt_sw_drop(ifindex, BT_SW_DROP_NO_PORT);
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		if (data + 12 > data_end)
			return bt_sw_drop(ifindex, BT_SW_DROP_NO_PORT);
		__builtin_memcpy(data, macs, 12);
	} else if (!tagged && out_tagged) {
		/* Push: the old EtherType already sits where the tag's inner one goes. */
		__builtin_memcpy(macs, eth, 12);
		if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*vh)))
			return bt_sw_drop(ifindex, BT_SW_DROP_NO_PORT);
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		eth = data;
		vh = (void *)(eth + 1);
		if ((void *)(vh + 1) > data_end)
			return bt_sw_drop(ifindex, BT_SW_DROP_NO_PORT);
		__builtin_memcpy(data, macs, 12);
		eth->h_proto = bpf_htons(ETH_P_8021Q);
		vh->tci = bpf_htons((__u16)vid);
	}
	if (bpf_redirect_map(&bt_sw_tx, out->ifindex, XDP_DROP) != XDP_REDIRECT)
		return bt_sw_drop(out->ifindex, BT_SW_DROP_NO_PORT);
	bt_sw_event(ctx, out->ifindex, BT_DIR_TX);
	bt_sw_count_tx(out->ifindex, (__u32)((long)ctx->data_end - (long)ctx->data), &cls, out_tagged, vid);
	bt_sw_stat(BT_SW_STAT_FAST_PATH);
	return XDP_REDIRECT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
