/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bridgetrace.h: the one kernel/user ABI of bridgetrace.
 *
 * Included by the BPF programs in bpf/ and imported by Swift through the
 * CBridgeTraceABI module. Fixed-width types only, explicit padding, no logic, so that
 * the C and Swift views of every struct are the same bytes. A Swift test checks each
 * struct's size against the BTF of the compiled objects.
 */
#ifndef BRIDGETRACE_H
#define BRIDGETRACE_H

#include <linux/types.h>

/* Every program bridgetrace loads is named with this prefix, so that a later run (or
 * `bridgetrace cleanup`) can recognise and remove programs left behind by a SIGKILL. */
#define BT_PROG_PREFIX "bt_"

/* Ports whose ifindex is below this are counted in a per-CPU array (one inlined
 * lookup); larger ifindexes, common on long-lived hypervisors, go to a per-CPU hash. */
#define BT_DIRECT_IFINDEX_MAX 1024
#define BT_BIG_PORTS_MAX 1024
#define BT_VLAN_KEYS_MAX 4096

/* tc filters are attached with this handle and priority, so that they can be found and
 * removed again without listing every filter on the device. */
#define BT_TC_HANDLE 0xb7
#define BT_TC_PRIORITY 0xb7

/* Direction is seen from the bridge: rx = the bridge received the frame on the port
 * (the VM or the wire sent it), tx = the bridge transmitted it out of the port. */
enum bt_dir {
	BT_DIR_RX = 0,
	BT_DIR_TX = 1,
	BT_DIR_MAX = 2,
};

/* Index into struct bt_counters.c. The classes from BT_CTR_ARP_REQUEST to BT_CTR_OTHER
 * are exclusive: each frame lands in exactly one. VLAN_TAGGED is counted in addition. */
enum bt_counter {
	BT_CTR_FRAMES = 0,
	BT_CTR_BYTES = 1,
	BT_CTR_ARP_REQUEST = 2,
	BT_CTR_ARP_REPLY = 3,
	BT_CTR_ARP_OTHER = 4,
	BT_CTR_ICMP_ECHO_REQUEST = 5,
	BT_CTR_ICMP_ECHO_REPLY = 6,
	BT_CTR_ICMP_UNREACHABLE = 7,
	BT_CTR_ICMP_OTHER = 8,
	BT_CTR_ICMP6 = 9,
	BT_CTR_DHCP = 10,
	BT_CTR_IPV4_OTHER = 11,
	BT_CTR_IPV6_OTHER = 12,
	BT_CTR_OTHER = 13,
	BT_CTR_VLAN_TAGGED = 14,
	BT_CTR_RESERVED = 15,
	BT_CTR_MAX = 16,
};

/* Value of the per-CPU counter maps: one per (port, direction). */
struct bt_counters {
	__u64 c[BT_CTR_MAX];
};

/* Key of the per-CPU hash for ports whose ifindex >= BT_DIRECT_IFINDEX_MAX. */
struct bt_port_key {
	__u32 ifindex;
	__u32 dir; /* enum bt_dir */
};

/* Key of the per-VLAN frame counts (outer tag only). Value: __u64 frames, per CPU. */
struct bt_vlan_key {
	__u32 ifindex;
	__u16 dir; /* enum bt_dir */
	__u16 vlan_id;
};

/* ---- Per-frame events (bridgetrace trace) ---- */

#define BT_SNAPLEN_DEFAULT 96 /* QinQ + IPv6 + ICMPv6 ND target; events are 128 B in the ring */
#define BT_SNAPLEN_MAX 256
#define BT_RINGBUF_DEFAULT_BYTES 8388608 /* 8 MiB; a literal so that Swift imports it */

/* What an event is about; the JSON `kind`. A tagged frame whose inner protocol is none of
 * these is BT_KIND_VLAN. */
enum bt_kind {
	BT_KIND_NONE = 0,
	BT_KIND_ARP = 1,
	BT_KIND_ICMP = 2,
	BT_KIND_ICMP6 = 3,
	BT_KIND_DHCP = 4,
	BT_KIND_VLAN = 5,
	BT_KIND_OTHER = 6,
	BT_KIND_DROP = 7,
};

/* Bits of bt_trace_config.kinds: which kinds reach the ring buffer. */
#define BT_KIND_BIT(k) (1u << (k))

/*
 * Read-only config, set in .rodata before load, so that the verifier prunes the event
 * path entirely when events are off (counters only) and the pre-filter costs nothing
 * when unset.
 */
struct bt_trace_config {
	__u32 events;        /* 0: count only; 1: emit events */
	__u32 kinds;         /* BT_KIND_BIT mask of kinds to emit */
	__u32 snaplen;       /* bytes of frame copied into an event, 1..BT_SNAPLEN_MAX */
	__u32 host_ip;       /* IPv4, network order; 0 = any. Matches IP src/dst, ARP sender/target */
	__u8 mac[6];         /* source or destination MAC to match, when mac_set */
	__u8 mac_set;
	__u8 pad0;
	__u16 vlan_id;       /* outer VID to match, when vlan_set */
	__u16 vlan_set;
};

/* One frame seen at a port. Fixed size; only caplen bytes of data are meaningful. */
struct bt_frame_event {
	__u64 time_ns;           /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 ifindex;
	__u32 len;               /* frame length on the wire, without an offloaded tag */
	__u16 caplen;            /* bytes valid in data */
	__u8 dir;                /* enum bt_dir */
	__u8 kind;               /* enum bt_kind */
	__u16 vlan_offload_tci;  /* tag the stack moved into skb metadata (tc only) */
	__u16 vlan_offload_tpid; /* its TPID (0x8100/0x88a8), host order; 0 = none */
	__u8 dhcp_msg_type;      /* DHCP option 53, read in the kernel: it lies past any snaplen */
	__u8 drop_reason;        /* kind BT_KIND_DROP (a switch's): enum bt_sw_drop */
	__u8 pad[2];
	__u8 data[BT_SNAPLEN_MAX];
};

/* Index of the single slot of the per-CPU bt_lost map: ring buffer reservations that
 * failed (the consumer fell behind). Never silent: shown by trace and counters. */
#define BT_LOST_SLOT 0


/* ---- Kernel drops (bridgetrace drops; tp_btf/kfree_skb, raw_tp fallback) ---- */

/* Bytes of the dropped frame copied into an event, from skb->head + mac_header. */
#define BT_DROP_SNAPLEN 128
#define BT_DROP_RINGBUF_BYTES 1048576 /* 1 MiB: drops are rare next to frames */
#define BT_DROP_KEYS_MAX 4096
/* Watched ports with ifindex below BT_DIRECT_IFINDEX_MAX sit in an array, the rest in a hash. */
#define BT_DROP_BIG_PORTS_MAX 1024
/* How many reason values userspace may declare "not a drop" (SKB_CONSUMED, ...). */
#define BT_DROP_IGNORED_MAX 4
/* Slots of the per-CPU bt_drop_lost array: events the ring buffer had no room for, and
 * counts the full key hash could not take. */
#define BT_DROP_LOST_EVENTS 0
#define BT_DROP_LOST_KEYS 1
#define BT_DROP_LOST_SLOTS 2

/*
 * Read-only config, set in .rodata before load. Reason numbers change between kernels:
 * userspace reads them from the running kernel's BTF (enum skb_drop_reason).
 */
struct bt_drop_config {
	__u64 netns_inum;                        /* the watched netns (ns.inum); 0 = any */
	__u32 ignored[BT_DROP_IGNORED_MAX];      /* reasons that are normal frees */
	__u32 ignored_count;                     /* entries used in ignored */
	__u32 events;                            /* 0: count only; 1: also emit bt_drop_event */
};

/* Key of the per-CPU drop counts (value: __u64 drops). */
struct bt_drop_key {
	__u64 location; /* the kernel address that freed the skb (symbolised via kallsyms) */
	__u32 ifindex;  /* skb->dev */
	__u32 reason;   /* enum skb_drop_reason value, named from BTF in userspace */
};

/* One dropped skb on a watched port. */
struct bt_drop_event {
	__u64 time_ns;      /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 location;
	__u32 ifindex;
	__u32 reason;
	__u32 len;          /* skb->len (from skb->data, which may be past the MAC header) */
	__u16 mac_offset;   /* skb->data - (skb->head + mac_header); 0 when no MAC header */
	__u16 caplen;       /* bytes valid in data, from the MAC header */
	__u16 vlan_tci;     /* offloaded tag (skb->vlan_tci) when vlan_proto != 0 */
	__u16 vlan_proto;   /* its TPID, host order; 0 = none */
	__u8 pad[4];
	__u8 data[BT_DROP_SNAPLEN];
};

/* ---- Benchmark (bridgetrace bench): generator and sink ---- */

/* Generated frames are IPv4/UDP to this port; the sink counts only these. */
#define BT_BENCH_UDP_PORT 47031

/*
 * Written by the generator right after the UDP header of every frame. 14 bytes, so that
 * the smallest frame (64 bytes on the wire = 60 handed to the device, the FCS being the
 * device's) carries it even behind a VLAN tag. Packed: it sits at an odd multiple of 2.
 */
struct bt_bench_stamp {
	__u64 tx_ns;  /* bpf_ktime_get_ns() as the frame left the generator */
	__u32 seq;    /* 0, 1, 2... within one trial */
	__u16 trial;  /* the sink ignores (counts as stale) frames of another trial */
} __attribute__((packed));

/* The sink's latency histogram is log-linear: values below 2^BT_BENCH_HIST_SUB_BITS ns
 * have a bucket each, above that every power of two is split into 2^SUB_BITS buckets
 * (so a bucket is at most 1/32 = 3.1% wide), up to 2^BT_BENCH_HIST_MAX_EXP ns. */
#define BT_BENCH_HIST_SUB_BITS 5
#define BT_BENCH_HIST_MAX_EXP 40
#define BT_BENCH_HIST_BUCKETS 1152 /* (MAX_EXP - SUB_BITS + 1) << SUB_BITS */

/* Generator settings for one trial; written by userspace before each run. */
struct bt_bench_gen_config {
	__u64 gap_ns;    /* inter-frame gap of a paced rate; 0 = as fast as possible */
	__u64 catchup_ns; /* a paced generator this late starts a new schedule instead of
			   * catching up in a burst (it was off the CPU between two runs) */
	__u64 pause_ns;   /* a longer silence between two frames is the generator being off
			   * the CPU (between syscalls), not sending time: see busy_ns */
	__u64 limit;     /* frames to send in this trial; the program stops sending after */
	__u32 ifindex;   /* port the frames are redirected out of */
	__u32 flows;     /* distinct (src MAC, src IP, src port) tuples, >= 1 */
	__u16 trial;
	__u16 l3_offset; /* 14, or 18 with a VLAN tag */
	__u16 src_ip_lo; /* low 16 bits of the template's source IP (host order) */
	__u16 src_port;  /* the template's UDP source port (host order) */
};

/* Generator progress, updated by the program, read by userspace. */
struct bt_bench_gen_state {
	__u64 sent;        /* frames stamped and redirected */
	__u64 idle;        /* runs that sent nothing (waiting for the next slot, or done) */
	__u64 next_due_ns; /* when the next paced frame is due */
	__u64 first_ns;    /* stamp of the first frame of the trial */
	__u64 last_ns;     /* stamp of the latest frame */
	__u64 busy_ns;     /* sending time: sum of the gaps between frames up to pause_ns */
};

/* The single entry of the generator's map: one array value, one lookup per frame. */
struct bt_bench_gen {
	struct bt_bench_gen_config config;
	struct bt_bench_gen_state state;
};

/* Which trial the sink counts (written by userspace before each trial), and the highest
 * sequence number + 1 seen so far, shared by all CPUs so that a frame overtaken on
 * another CPU counts as reordered. Updated without atomics: one generator thread makes
 * two CPUs touch it at once only rarely, and a lost update only misses a reorder. */
struct bt_bench_sink_config {
	__u32 trial;
	__u32 pad;
	__u64 max_seq;
};

/* Per-CPU sink statistics for the current trial (userspace sums the CPUs). */
struct bt_bench_sink_stats {
	__u64 frames;      /* bench frames of this trial */
	__u64 bytes;       /* their length as handed to the device (no FCS) */
	__u64 stale;       /* bench frames of another trial: stragglers */
	__u64 other;       /* frames that are not bench frames (ARP, IPv6 ...) */
	__u64 reordered;   /* arrived after a frame with a higher sequence number */
	__u64 pad0;
	__u64 latency_sum_ns;
	__u64 latency_min_ns; /* 0 = none yet */
	__u64 latency_max_ns;
	__u64 clock_skew;  /* stamps from the future (should stay 0: one clock) */
	__u64 hist[BT_BENCH_HIST_BUCKETS];
};

/* ---- Line rate (issue 9): per-port VLAN slots, event wakeups, sampling ---- */

/* The first BT_VLAN_SLOTS distinct VIDs a (port, direction) sees on a CPU are counted in
 * a per-CPU array next to the port's counters (one inlined lookup, no hash); any further
 * VID goes to bt_vlan_frames as before. Userspace sums both by VID. */
#define BT_VLAN_SLOTS 8

/* Value of bt_vlan_slots, indexed like bt_counters (ifindex * 2 + dir). */
struct bt_vlan_slots {
	__u16 vid_plus1[BT_VLAN_SLOTS]; /* VID + 1, so that VID 0 (priority tag) counts; 0 = free */
	__u64 frames[BT_VLAN_SLOTS];
};

/* Slots of the per-CPU bt_trace_stats map (values __u64). */
enum bt_trace_stat {
	BT_STAT_SAMPLE_SEEN = 0,    /* wanted events seen, for --sample's 1-in-N choice */
	BT_STAT_SAMPLE_SKIPPED = 1, /* wanted events that --sample left out (shown, never silent) */
	BT_STAT_SINCE_WAKEUP = 2,   /* events submitted without a wakeup since the last one */
	BT_STAT_MAX = 3,
};

struct bt_trace_stats {
	__u64 v[BT_STAT_MAX];
};

/* ---- The switch (bridgetrace switch): an XDP fast path in front of AF_XDP ---- */

/* A running switch pins its maps (and program) under BT_SW_PIN_ROOT/NAME/. */
#define BT_SW_PIN_ROOT "/sys/fs/bpf/bridgetrace/switch"
#define BT_SW_PORTS_MAX 64
#define BT_SW_XSK_SLOTS 256 /* AF_XDP sockets: one per (port, rx queue) */
#define BT_SW_FDB_DEFAULT_MAX 8192
#define BT_SW_VLAN_WORDS 64 /* 4096 VIDs as a bitmap of u64 words */

enum bt_sw_mode {
	BT_SW_MODE_ACCESS = 0, /* untagged on the wire, pvid inside */
	BT_SW_MODE_TRUNK = 1,  /* tagged with the allowed VIDs; pvid (native) untagged, 0 = none */
};

/* Value of bt_sw_ports (hash, key: __u32 ifindex). Written by userspace only. */
struct bt_sw_port {
	__u32 ifindex;
	__u8 mode;      /* enum bt_sw_mode */
	__u8 redirect;  /* 1: the fast path may redirect into it (devmap); 0: via AF_XDP TX */
	__u8 up;        /* carrier and operstate up */
	__u8 meta_inband; /* 1: the decision goes in-band to its sockets: XDP metadata is not
			   * there on this device (a tap before 6.15: tun_build_skb's XDP) */
	__u16 pvid;     /* VID of untagged frames (access VID or native); 0 = refuse untagged */
	__u16 pad1;
	__u32 mtu;
	__u32 xsk_slot; /* first bt_sw_xsks index of this port (rx queue 0) */
	__u32 xsk_queues; /* rx queues with a socket: slots xsk_slot .. xsk_slot + xsk_queues - 1 */
	__u32 xsk_frame_max; /* longest frame (in-band bytes included) its sockets take; 0 = any */
	__u32 pad2;
	__u64 vlans[BT_SW_VLAN_WORDS]; /* bit v set: the port carries VID v */
};

/* FDB: (MAC, VLAN) -> port, learned in the kernel. */
struct bt_sw_fdb_key {
	__u8 mac[6];
	__u16 vlan;
};

#define BT_SW_FDB_STATIC 1

struct bt_sw_fdb_entry {
	__u32 ifindex;
	__u32 flags;     /* BT_SW_FDB_STATIC: never aged, never moved */
	__u64 last_seen; /* bt_sw_info.now_s when last seen as a source */
	__u64 moves;     /* times the MAC was seen on another port than its entry's */
};

/* The switch's single bt_sw_info entry: the clock userspace ticks (seconds, monotonic),
 * and the settings `show` needs. Aging is lazy: an entry older than aging_s is a miss. */
struct bt_sw_info {
	__u64 now_s;
	__u32 aging_s;
	__u32 fdb_max;
	__u32 fast_path; /* 0: every frame goes to AF_XDP */
	__u32 pid;       /* the switch process, so readers can tell a stale pin */
	__u64 netns_inum;
	__u32 meta_inband; /* 1: struct bt_sw_meta travels in-band (no bpf_xdp_adjust_meta here) */
	__u32 pad0;
};

/* Drop reasons of the switch; names in Swift (SwitchDropReason). Keys of bt_sw_drops
 * (per-CPU, the kernel's) and bt_sw_udrops (userspace's), value __u64. */
enum bt_sw_drop {
	BT_SW_DROP_VLAN_NOT_ALLOWED = 1,
	BT_SW_DROP_FDB_FULL = 2,      /* source not learned; the frame itself is still forwarded */
	BT_SW_DROP_MTU_EXCEEDED = 3,
	BT_SW_DROP_PORT_DOWN = 4,
	BT_SW_DROP_XSK_RX_RING_FULL = 5,
	BT_SW_DROP_XSK_TX_RING_FULL = 6,
	BT_SW_DROP_NO_PORT = 7,
	BT_SW_DROP_HAIRPIN = 8,       /* destination learned on the ingress port */
	BT_SW_DROP_FRAME_TOO_BIG = 9, /* longer than the port's AF_XDP sockets take (UMEM frame) */
	BT_SW_DROP_REDIRECT_FAILED = 10, /* the kernel failed the devmap transmit after the program */
	BT_SW_DROP_MAX = 11,
};

struct bt_sw_drop_key {
	__u32 ifindex;
	__u32 reason; /* enum bt_sw_drop */
};

/* Per-CPU switch statistics (bt_sw_stats, one entry). */
enum bt_sw_stat {
	BT_SW_STAT_FAST_PATH = 0,  /* known unicast redirected in the kernel */
	BT_SW_STAT_TO_XSK = 1,     /* frames handed to userspace */
	BT_SW_STAT_LEARNED = 2,    /* new FDB entries */
	BT_SW_STAT_MOVES = 3,      /* MAC moves (mac_flapping evidence) */
	BT_SW_STAT_EXPIRED = 4,    /* lookups that found an aged-out entry */
	BT_SW_STAT_CSUM_COMPLETED = 5, /* TCP/UDP checksums left partial by an offload, completed */
	BT_SW_STAT_SKB_PATH = 6,   /* GSO frames passed to the skb path (tc), offload state kept */
	BT_SW_STAT_MAX = 8,
};

struct bt_sw_stats {
	__u64 c[BT_SW_STAT_MAX];
};

/* Prepended to every frame handed to AF_XDP: the kernel's decision, so userspace neither
 * re-parses the tag nor looks the FDB up again. XDP metadata where the kernel offers
 * bpf_xdp_adjust_meta to XDP, else in-band: the frame's first 8 bytes (adjust_head). */
struct bt_sw_meta {
	__u32 egress;  /* ifindex of a known unicast destination; 0 = flood */
	__u16 vlan;    /* the frame's VLAN inside the switch */
	__u8 counter;  /* enum bt_counter class (for tx counting, same classify code) */
	__u8 tagged;   /* the frame carries an in-band 802.1Q tag now */
};

/* ---- Tracing a running switch (trace NAME / diagnose NAME) ---- */

/*
 * A switch's programs cannot be reloaded for a tracer, so its event config is not .rodata:
 * it lives in the switch's .data.bt_sw_trace section (an array map of one value, pinned as
 * BT_SW_TRACE_PIN), which `trace NAME` writes when it starts and clears when it stops.
 * config.events == 0 is the one load and branch the switch pays while nobody traces.
 * Events go to the switch's own bt_events ring buffer (pinned too), in the bridge tracer's
 * record format; failed reservations count in its bt_lost.
 */
#define BT_SW_TRACE_PIN "trace"
#define BT_SW_TRACE_MAP ".data.bt_sw_trace"

struct bt_sw_trace {
	struct bt_trace_config config; /* the bridge tracer's pre-filter, kinds and snaplen */
	__u32 sample_every;   /* --sample N; 0 or 1 = every event */
	__u32 wakeup_events;  /* as bt_wakeup_events: 0 wakes the reader on every event */
	__u32 owner_pid;      /* the tracer; the switch turns events off when it is gone */
	__u32 user_lost;      /* events of the switch's userspace it could not hand over */
};

/* In front of a frame the switch's userspace hands to bt_sw_trace_user (BPF_PROG_TEST_RUN,
 * ingress_ifindex = the port; in-band, the program strips it): a frame it sent with
 * AF_XDP TX (reason 0, dir tx) or one it dropped (reason, dir as seen from the switch). */
struct bt_sw_trace_meta {
	__u32 reason; /* enum bt_sw_drop; 0 = the frame was sent */
	__u32 dir;    /* enum bt_dir */
};

#endif /* BRIDGETRACE_H */
