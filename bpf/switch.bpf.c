// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bridgetrace switch: the XDP program on every port of the userspace switch.
 *
 * It counts the frame with the tracer's classify code (same counter maps, so `counters`
 * reads a switch like a bridge), assigns the frame its VLAN, learns (VLAN, source MAC)
 * -> port in the FDB, and then either redirects known unicast in the kernel (fast path,
 * with VLAN push/pop) or hands the frame to the port's AF_XDP socket with the decision
 * in XDP metadata, for userspace to flood or forward. Unlike the tracer's programs this
 * one forwards: it returns XDP_PASS for a frame of a switch port only to hand a GSO skb to
 * bt_sw_tc (below), the path that keeps its offload state.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "classify.bpf.h"

#include "netdev.bpf.h"

/* Set before load: 0 sends every frame through AF_XDP (--no-fast-path). */
const volatile __u32 bt_sw_fast_path = 1;
/* Set before load: 1 when the kernel does not offer bpf_xdp_adjust_meta to XDP programs
 * (probed; some builds refuse it). The decision for userspace then travels in-band, in
 * front of the frame (adjust_head), and userspace strips it. The verifier prunes the
 * branch not taken, helper call included, so either variant loads where it is allowed. */
const volatile __u32 bt_sw_meta_inband = 0;
/* Set before load: 1 when bt_sw_tc is on the ports, so that GSO skbs may be passed to it. */
const volatile __u32 bt_sw_skb_path = 0;

/* Before 6.3, xdp_do_redirect refuses a multi-buffer frame for any map but a cpumap: it
 * returns -EOPNOTSUPP before any tracepoint, and the driver drops the frame (veth counts
 * it in rx_queue_N_drops), so a jumbo frame on a veth with a frags program never arrives.
 * The change that lifted it ("bpf: devmap: check XDP features in __xdp_enqueue routine")
 * came with enum netdev_xdp_act's NETDEV_XDP_ACT_NDO_XMIT_SG: libbpf resolves
 * bt_sw_redirect_frags() against the running kernel's BTF (CO-RE), and the verifier prunes
 * the branch not taken. Without it such frames take the skb path (bt_sw_tc). */
enum netdev_xdp_act___bt {
	NETDEV_XDP_ACT_NDO_XMIT_SG___bt = 64,
};
#define bt_sw_redirect_frags() \
	bpf_core_enum_value_exists(enum netdev_xdp_act___bt, NETDEV_XDP_ACT_NDO_XMIT_SG___bt)

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

/* Room for one piece of a payload being checksummed: bpf_csum_diff sums memory the
 * verifier can bound, and bpf_xdp_load_bytes also reads the frags of a multi-buffer frame.
 * 8 spare bytes: the rounded-up length the verifier sees may pass the piece by 3. */
#define BT_SW_CSUM_PIECE 512
#define BT_SW_CSUM_PIECES 18 /* 9216 bytes: any payload an MTU 9000 port carries */

struct bt_sw_csum_scratch {
	__u8 buf[BT_SW_CSUM_PIECE + 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bt_sw_csum_scratch);
} bt_sw_csum_scratch SEC(".maps");

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

static __always_inline __u32 bt_sw_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u32)((sum & 0xffff) + (sum >> 16));
}

/*
 * A TCP or UDP frame sent with checksum offload (CHECKSUM_PARTIAL: a veth's local sender,
 * a virtio guest) carries in its checksum field only the sum of the pseudo-header; the
 * device was to finish it. XDP gets the bytes without that flag, and whatever the switch
 * passes them to (a devmap redirect, AF_XDP TX) builds an skb that says the checksum is
 * complete: the receiver counts a checksum error. So a field equal to the folded
 * pseudo-header sum is taken as partial and completed here (a complete checksum equal to
 * it is a 1 in 65536 chance, and completing it again gives the same value). Sums are of
 * 16-bit words as they lie in memory, which one's complement addition allows.
 * Returns 1 when the checksum is partial (and, with `complete`, now completed). A global
 * function: verified once, on its own.
 */
__noinline int bt_sw_complete_csum(struct xdp_md *ctx, int complete)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bt_sw_csum_scratch *scratch;
	__u32 off = sizeof(*eth), l4off, l4len, csum_off, proto, i, zero = 0;
	__u64 pseudo = 0, sum = 0;
	__u16 *field, h_proto;

	if ((void *)(eth + 1) > data_end)
		return 0;
	h_proto = eth->h_proto;
	if (h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD)) {
		struct bt_vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > data_end)
			return 0;
		h_proto = vh->proto;
		off += sizeof(*vh);
	}
	if (h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;
		__u16 *w;

		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return 0;
		if (ip->frag_off & bpf_htons(0x3fff)) /* a fragment: no L4 header to finish */
			return 0;
		proto = ip->protocol;
		l4off = off + ip->ihl * 4;
		l4len = bpf_ntohs(ip->tot_len);
		if (l4len < ip->ihl * 4)
			return 0;
		l4len -= ip->ihl * 4;
		w = (__u16 *)&ip->saddr;
		pseudo = (__u64)w[0] + w[1] + w[2] + w[3];
	} else if (h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;
		__u16 *w;

		if ((void *)(ip6 + 1) > data_end)
			return 0;
		proto = ip6->nexthdr; /* extension headers: left as they are */
		l4off = off + sizeof(*ip6);
		l4len = bpf_ntohs(ip6->payload_len);
		w = (__u16 *)&ip6->saddr;
		for (i = 0; i < 16; i++)
			pseudo += w[i];
	} else {
		return 0;
	}
	if (proto == IPPROTO_TCP)
		csum_off = l4off + 16;
	else if (proto == IPPROTO_UDP)
		csum_off = l4off + 6;
	else
		return 0;
	if (l4len < (proto == IPPROTO_TCP ? 20 : 8) || l4len > BT_SW_CSUM_PIECE * BT_SW_CSUM_PIECES)
		return 0;
	pseudo += bpf_htons((__u16)proto) + bpf_htons((__u16)l4len);
	if (csum_off > 512) /* the header must lie in the first buffer; bounds for the verifier */
		return 0;
	field = data + csum_off;
	if ((void *)(field + 1) > data_end)
		return 0;
	if (*field != (__u16)bt_sw_fold(pseudo) || (proto == IPPROTO_UDP && *field == 0))
		return 0;
	if (!complete)
		return 1; /* partial: the caller only asked */

	/* The device's part: sum the L4 bytes as they are (the field holds the pseudo sum). */
	scratch = bpf_map_lookup_elem(&bt_sw_csum_scratch, &zero);
	if (!scratch)
		return 0;
	for (i = 0; i < BT_SW_CSUM_PIECES; i++) {
		__u32 done = i * BT_SW_CSUM_PIECE, piece;
		__u64 copy, words;
		__s64 part;

		if (done >= l4len)
			break;
		piece = l4len - done;
		if (piece > BT_SW_CSUM_PIECE)
			piece = BT_SW_CSUM_PIECE;
		copy = bt_copy_len_room(piece, BT_SW_CSUM_PIECE);
		if (!copy)
			return 0;
		/* Zero the last word first: a tail of 1-3 bytes sums as if padded with zeros. */
		*(__u32 *)&scratch->buf[(copy - 1) & 0x1fc] = 0;
		if (bt_xdp_load_bytes(ctx, l4off + done, scratch->buf, copy))
			return 0;
		words = (copy + 3) & 0x3fc;
		part = bpf_csum_diff(0, 0, (void *)scratch->buf, words, 0);
		if (part < 0)
			return 0;
		sum += (__u32)part;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	field = data + csum_off;
	if ((void *)(field + 1) > data_end)
		return 0;
	*field = (__u16)~bt_sw_fold(sum);
	if (proto == IPPROTO_UDP && *field == 0)
		*field = 0xffff; /* UDP says "no checksum" with 0 */
	bt_sw_stat(BT_SW_STAT_CSUM_COMPLETED);
	return 1;
}

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
					 __u32 vid, const struct bt_class *cls, __u32 tagged, __u32 len)
{
	struct bt_sw_meta *meta;
	void *data;
	__u32 queue = ctx->rx_queue_index;
	/* The kernel has no adjust_meta for XDP at all (constant: the other branch is pruned),
	 * or this port's driver gives XDP no metadata room (a tap before 6.15: -ENOTSUPP). */
	const __u32 inband = bt_sw_meta_inband || in->meta_inband;

	if (queue >= in->xsk_queues)
		return bt_sw_drop(in->ifindex, BT_SW_DROP_NO_PORT);
	/* AF_XDP carries bytes only: a partial checksum is completed before they go. */
	bt_sw_complete_csum(ctx, 1);
	/* A frame the port's sockets cannot take would be lost in the socket and counted
	 * there as a full ring: say what it is instead. */
	if (in->xsk_frame_max && len + (inband ? sizeof(*meta) : 0) > in->xsk_frame_max)
		return bt_sw_drop(in->ifindex, BT_SW_DROP_FRAME_TOO_BIG);
	if (inband) {
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
		if (inband)
			bpf_xdp_adjust_head(ctx, (int)sizeof(*meta)); /* undoes the push above: cannot fail */
		return bt_sw_drop(in->ifindex, BT_SW_DROP_NO_PORT);
	}
	return XDP_REDIRECT;
}

/* The forwarding program, in two builds: frags (xdp.frags: multi-buffer frames, a jumbo
 * MTU on veth) where the kernel takes it, else the single-buffer one. The switch loads
 * one of them (autoload), frags first. */
static __always_inline int bt_sw_forward(struct xdp_md *ctx, const int frags)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = frags ? (__u32)bpf_xdp_get_buff_len(ctx) : (__u32)(data_end - data);
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

	/* Longer than the port's MTU can carry: an skb the kernel had not segmented (GSO from
	 * a tap runs generic XDP). It goes on as an skb, to bt_sw_tc on this port, which
	 * forwards it with its offload state (segments and checksum still to be done). */
	if (len > in->mtu + sizeof(*eth) + (tagged ? sizeof(*vh) : 0) && bt_sw_skb_path) {
		bt_sw_stat(BT_SW_STAT_SKB_PATH);
		return XDP_PASS;
	}

	if (eth->h_dest[0] & 1)
		return bt_sw_to_user(ctx, in, 0, vid, &cls, tagged, len);
	__builtin_memcpy(key.mac, eth->h_dest, 6);
	key.vlan = (__u16)vid;
	dst = bpf_map_lookup_elem(&bt_sw_fdb, &key);
	if (!dst)
		return bt_sw_to_user(ctx, in, 0, vid, &cls, tagged, len);
	if (!(dst->flags & BT_SW_FDB_STATIC) && info->now_s - dst->last_seen > info->aging_s) {
		bt_sw_stat(BT_SW_STAT_EXPIRED);
		return bt_sw_to_user(ctx, in, 0, vid, &cls, tagged, len);
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
		return bt_sw_to_user(ctx, in, out->ifindex, vid, &cls, tagged, len);

	/* A partial checksum on the way to a port the kernel sends to: the skb path keeps the
	 * skb's offload state, so nobody sums the payload unless the egress device must. */
	if (bt_sw_skb_path && bt_sw_complete_csum(ctx, 0)) {
		bt_sw_stat(BT_SW_STAT_SKB_PATH);
		return XDP_PASS;
	}
	/* A multi-buffer frame this kernel cannot redirect (see bt_sw_redirect_frags). */
	if (frags && len > (__u32)(data_end - data) && !bt_sw_redirect_frags()) {
		if (!bt_sw_skb_path)
			return bt_sw_drop(out->ifindex, BT_SW_DROP_REDIRECT_FAILED);
		bt_sw_stat(BT_SW_STAT_SKB_PATH);
		return XDP_PASS;
	}
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
	bt_sw_count_tx(out->ifindex, frags ? (__u32)bpf_xdp_get_buff_len(ctx)
					   : (__u32)((long)ctx->data_end - (long)ctx->data), &cls, out_tagged, vid);
	bt_sw_stat(BT_SW_STAT_FAST_PATH);
	return XDP_REDIRECT;
}

SEC("xdp.frags")
int bt_sw_xdp_frags(struct xdp_md *ctx)
{
	return bt_sw_forward(ctx, 1);
}

SEC("xdp")
int bt_sw_xdp(struct xdp_md *ctx)
{
	return bt_sw_forward(ctx, 0);
}

/* ---- The skb path: GSO frames XDP passed on (see bt_sw_forward) ---- */

/*
 * tc ingress on every port. Only frames the XDP program passed reach it: skbs longer than
 * the port's MTU, which still carry their GSO and checksum offload state. Known unicast is
 * redirected to the egress port as an skb, whose transmit path segments it and finishes
 * its checksums as that port needs; the tag is pushed or popped as on the fast path. The
 * rx count, learning and the VLAN checks were done in XDP. Anything else is dropped here
 * with a reason: flooding a super-frame to every port is not done.
 */
SEC("tc")
int bt_sw_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 ifindex = skb->ingress_ifindex, vid, tagged = 0, out_tagged, egress;
	struct bt_sw_fdb_key key = {};
	struct bt_sw_fdb_entry *dst;
	struct bt_sw_port *in, *out;
	struct ethhdr *eth = data;
	struct bt_class cls;

	in = bpf_map_lookup_elem(&bt_sw_ports, &ifindex);
	if (!in)
		return TC_ACT_OK; /* not (yet) a port of this switch */
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_SHOT;
	vid = in->pvid;
	if (skb->vlan_present && (skb->vlan_tci & BT_VLAN_VID_MASK)) {
		vid = skb->vlan_tci & BT_VLAN_VID_MASK; /* the stack took the tag off already */
		tagged = 1;
	} else if (eth->h_proto == bpf_htons(ETH_P_8021Q)) {
		struct bt_vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > data_end)
			return TC_ACT_SHOT;
		if (bpf_ntohs(vh->tci) & BT_VLAN_VID_MASK) {
			vid = bpf_ntohs(vh->tci) & BT_VLAN_VID_MASK;
			tagged = 1;
		}
	}
	__builtin_memcpy(key.mac, eth->h_dest, 6);
	key.vlan = (__u16)vid;
	dst = bpf_map_lookup_elem(&bt_sw_fdb, &key);
	if (!dst || (eth->h_dest[0] & 1)) {
		bt_sw_count_drop(ifindex, BT_SW_DROP_NO_PORT);
		return TC_ACT_SHOT;
	}
	egress = dst->ifindex;
	if (egress == ifindex) {
		bt_sw_count_drop(ifindex, BT_SW_DROP_HAIRPIN);
		return TC_ACT_SHOT;
	}
	out = bpf_map_lookup_elem(&bt_sw_ports, &egress);
	if (!out) {
		bt_sw_count_drop(ifindex, BT_SW_DROP_NO_PORT);
		return TC_ACT_SHOT;
	}
	if (!out->up) {
		bt_sw_count_drop(egress, BT_SW_DROP_PORT_DOWN);
		return TC_ACT_SHOT;
	}
	if (!bt_sw_carries(out, vid)) {
		bt_sw_count_drop(egress, BT_SW_DROP_VLAN_NOT_ALLOWED);
		return TC_ACT_SHOT;
	}
	out_tagged = !(out->mode == BT_SW_MODE_ACCESS || vid == out->pvid);
	if (tagged && !out_tagged) {
		if (bpf_skb_vlan_pop(skb))
			return TC_ACT_SHOT;
	} else if (!tagged && out_tagged) {
		if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), (__u16)vid))
			return TC_ACT_SHOT;
	}
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	bt_classify(data, data_end, 0, 0, 0, &cls);
	bt_sw_count_tx(egress, skb->len, &cls, out_tagged, vid);
	bt_sw_stat(BT_SW_STAT_FAST_PATH);
	return bpf_redirect(egress, 0);
}

/* ---- Redirect failures: the kernel's word after the program returned ---- */

/* A devmap transmit that failed after the program returned XDP_REDIRECT (the frame was
 * counted as tx): the driver refused it (a veth whose peer has no NAPI, a full ring).
 * Counted per egress port as REDIRECT_FAILED, for this switch's namespace only: other
 * namespaces reuse the same ifindex numbers. */
static __always_inline void bt_sw_redirect_failed(struct net_device *to, __u32 frames)
{
	struct bt_sw_drop_key key = { .reason = BT_SW_DROP_REDIRECT_FAILED };
	struct bt_sw_info *info;
	__u32 zero = 0, ifindex;
	__u64 *n;

	info = bpf_map_lookup_elem(&bt_sw_info, &zero);
	if (!info || !to || BPF_CORE_READ(to, nd_net.net, ns.inum) != info->netns_inum)
		return;
	ifindex = (__u32)BPF_CORE_READ(to, ifindex);
	if (!bpf_map_lookup_elem(&bt_sw_ports, &ifindex))
		return;
	key.ifindex = ifindex;
	n = bpf_map_lookup_elem(&bt_sw_drops, &key);
	if (n) {
		*n += frames;
	} else {
		__u64 first = frames;

		bpf_map_update_elem(&bt_sw_drops, &key, &first, BPF_NOEXIST);
	}
}

/* TP_PROTO(const struct net_device *from_dev, const struct net_device *to_dev, int sent,
 * int drops, int err): fires at every bulk flush; the common case (no drops) leaves at once. */
SEC("raw_tp/xdp_devmap_xmit")
int bt_sw_devmap_xmit(__u64 *ctx)
{
	int drops = (int)ctx[3];

	if (drops > 0)
		bt_sw_redirect_failed((struct net_device *)ctx[1], (__u32)drops);
	return 0;
}

/* TP_PROTO(const struct net_device *dev, const struct bpf_prog *xdp, const void *tgt,
 * int err, enum bpf_map_type map_type, u32 map_id, u32 index): a redirect the kernel could
 * not even queue (a device without ndo_xdp_xmit, a frame over its MTU). For this switch's
 * devmap the index is the key, the egress ifindex. Failures into an XSKMAP are the
 * sockets' (XDP_STATISTICS, XSK_RX_RING_FULL). */
SEC("raw_tp/xdp_redirect_err")
int bt_sw_redirect_err(__u64 *ctx)
{
	struct net_device *dev = (struct net_device *)ctx[0];
	struct bt_sw_info *info;
	__u32 zero = 0, ifindex = (__u32)ctx[6];

	if ((__u32)ctx[4] != BPF_MAP_TYPE_DEVMAP_HASH)
		return 0;
	info = bpf_map_lookup_elem(&bt_sw_info, &zero);
	/* The ingress port in this switch's namespace: the failed target is then its port. */
	if (!info || !dev || BPF_CORE_READ(dev, nd_net.net, ns.inum) != info->netns_inum)
		return 0;
	{
		struct bt_sw_drop_key key = { .ifindex = ifindex, .reason = BT_SW_DROP_REDIRECT_FAILED };
		__u64 *n, one = 1;

		if (!bpf_map_lookup_elem(&bt_sw_ports, &ifindex))
			return 0;
		n = bpf_map_lookup_elem(&bt_sw_drops, &key);
		if (n)
			*n += 1;
		else
			bpf_map_update_elem(&bt_sw_drops, &key, &one, BPF_NOEXIST);
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
