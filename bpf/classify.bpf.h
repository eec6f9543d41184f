/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Frame classification shared by the XDP (rx) and tc (rx fallback, tx) programs.
 * Works on a [data, data_end) window so both hooks use the same bounds-checked code.
 */
#ifndef BT_CLASSIFY_BPF_H
#define BT_CLASSIFY_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bridgetrace.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
/* The pre-802.1ad QinQ TPID some switches still send; libpcap's `vlan` accepts it too. */
#define BT_ETH_P_QINQ1 0x9100
#define BT_ARPOP_REQUEST 1
#define BT_ARPOP_REPLY 2
#define BT_VLAN_VID_MASK 0x0fff
/* linux/icmp.h drags in libc headers, which do not build for -target bpf. */
#define BT_ICMP_ECHOREPLY 0
#define BT_ICMP_DEST_UNREACH 3
#define BT_ICMP_ECHO 8

struct bt_icmp_hdr {
	__u8 type;
	__u8 code;
	__be16 checksum;
};

struct bt_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* The fixed part of an ARP header: the opcode is all the counters need. */
struct bt_arp_hdr {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
};

/* Ethernet/IPv4 ARP body after the fixed part: the event pre-filter matches the IPs. */
struct bt_arp_eth_ipv4 {
	__u8 sha[6];
	__be32 spa;
	__u8 tha[6];
	__be32 tpa;
} __attribute__((packed));

struct bt_class {
	__u32 counter;  /* enum bt_counter, one of the exclusive classes */
	__u32 tagged;   /* a VLAN tag was seen, in-band or offloaded */
	__u32 vlan_id;  /* outer tag's VID when tagged */
	__be32 ip_a;    /* IPv4 src / ARP sender IP, 0 when none (for the event pre-filter) */
	__be32 ip_b;    /* IPv4 dst / ARP target IP */
	__u32 dhcp_type; /* DHCP option 53 when it is the first option, else 0 */
};

/* Where DHCP's first option sits in the BOOTP payload: after 236 bytes of fixed fields and
 * the 4-byte magic cookie. */
#define BT_BOOTP_COOKIE_OFFSET 236
#define BT_DHCP_FIRST_OPTION 240
#define BT_DHCP_OPT_MSG_TYPE 53

/* Per-CPU counters: a direct array for small ifindexes (index = ifindex * 2 + dir)... */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BT_DIRECT_IFINDEX_MAX * BT_DIR_MAX);
	__type(key, __u32);
	__type(value, struct bt_counters);
} bt_counters SEC(".maps");

/* ...and a hash for the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, BT_BIG_PORTS_MAX * BT_DIR_MAX);
	__type(key, struct bt_port_key);
	__type(value, struct bt_counters);
} bt_counters_big SEC(".maps");

/* The first VIDs of each (port, direction), inline: tagged frames cost what untagged do. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BT_DIRECT_IFINDEX_MAX * BT_DIR_MAX);
	__type(key, __u32);
	__type(value, struct bt_vlan_slots);
} bt_vlan_slots SEC(".maps");

/* Every other VID, and every VID of ports with large ifindexes. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, BT_VLAN_KEYS_MAX);
	__type(key, struct bt_vlan_key);
	__type(value, __u64);
} bt_vlan_frames SEC(".maps");

/*
 * Classify one frame. `offloaded_tci` is the tag the stack moved out of the frame into
 * skb metadata (tc only; pass has_offload = 0 from XDP). With an offloaded tag, any
 * in-band tags are inner tags.
 */
static __always_inline void bt_classify(void *data, void *data_end, __u32 has_offload,
					__u16 offloaded_tci, __u32 want_addrs, struct bt_class *out)
{
	struct ethhdr *eth = data;
	void *cursor;
	__u16 proto;

	out->counter = BT_CTR_OTHER;
	out->ip_a = 0;
	out->ip_b = 0;
	out->dhcp_type = 0;
	out->tagged = has_offload;
	out->vlan_id = offloaded_tci & BT_VLAN_VID_MASK;

	if ((void *)(eth + 1) > data_end)
		return;
	proto = eth->h_proto;
	cursor = eth + 1;

	/* Look through up to two in-band tags (802.1Q, or 802.1ad/0x9100 outer + 802.1Q). */
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct bt_vlan_hdr *vh = cursor;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD) &&
		    proto != bpf_htons(BT_ETH_P_QINQ1))
			break;
		if ((void *)(vh + 1) > data_end)
			return;
		if (!out->tagged) {
			out->tagged = 1;
			out->vlan_id = bpf_ntohs(vh->tci) & BT_VLAN_VID_MASK;
		}
		proto = vh->proto;
		cursor = vh + 1;
	}

	if (proto == bpf_htons(ETH_P_ARP)) {
		struct bt_arp_hdr *arp = cursor;

		out->counter = BT_CTR_ARP_OTHER;
		if ((void *)(arp + 1) > data_end)
			return;
		if (arp->op == bpf_htons(BT_ARPOP_REQUEST))
			out->counter = BT_CTR_ARP_REQUEST;
		else if (arp->op == bpf_htons(BT_ARPOP_REPLY))
			out->counter = BT_CTR_ARP_REPLY;
		if (want_addrs && arp->ptype == bpf_htons(ETH_P_IP) && arp->plen == 4 && arp->hlen == 6) {
			struct bt_arp_eth_ipv4 *body = (void *)(arp + 1);

			if ((void *)(body + 1) <= data_end) {
				out->ip_a = body->spa;
				out->ip_b = body->tpa;
			}
		}
		return;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cursor;
		__u32 ihl;

		out->counter = BT_CTR_IPV4_OTHER;
		if ((void *)(ip + 1) > data_end)
			return;
		if (want_addrs) {
			out->ip_a = ip->saddr;
			out->ip_b = ip->daddr;
		}
		/* Only the first fragment carries the L4 header. */
		if (ip->frag_off & bpf_htons(0x1fff))
			return;
		ihl = (__u32)ip->ihl * 4;
		if (ihl < sizeof(*ip))
			return;
		cursor = (void *)ip + ihl;
		if (ip->protocol == IPPROTO_ICMP) {
			struct bt_icmp_hdr *icmp = cursor;

			out->counter = BT_CTR_ICMP_OTHER;
			if ((void *)(icmp + 1) > data_end)
				return;
			if (icmp->type == BT_ICMP_ECHO)
				out->counter = BT_CTR_ICMP_ECHO_REQUEST;
			else if (icmp->type == BT_ICMP_ECHOREPLY)
				out->counter = BT_CTR_ICMP_ECHO_REPLY;
			else if (icmp->type == BT_ICMP_DEST_UNREACH)
				out->counter = BT_CTR_ICMP_UNREACHABLE;
			return;
		}
		if (ip->protocol == IPPROTO_UDP) {
			struct udphdr *udp = cursor;

			if ((void *)(udp + 1) > data_end)
				return;
			if ((udp->source == bpf_htons(68) && udp->dest == bpf_htons(67)) ||
			    (udp->source == bpf_htons(67) && udp->dest == bpf_htons(68))) {
				__u8 *bootp = (__u8 *)(udp + 1);

				out->counter = BT_CTR_DHCP;
				/* Clients and servers put the message type first (dhclient,
				 * systemd-networkd, udhcpc, dnsmasq); read it there. */
				if (want_addrs && (void *)(bootp + BT_DHCP_FIRST_OPTION + 3) <= data_end &&
				    bootp[BT_BOOTP_COOKIE_OFFSET] == 0x63 && bootp[BT_BOOTP_COOKIE_OFFSET + 1] == 0x82 &&
				    bootp[BT_BOOTP_COOKIE_OFFSET + 2] == 0x53 && bootp[BT_BOOTP_COOKIE_OFFSET + 3] == 0x63 &&
				    bootp[BT_DHCP_FIRST_OPTION] == BT_DHCP_OPT_MSG_TYPE && bootp[BT_DHCP_FIRST_OPTION + 1] == 1)
					out->dhcp_type = bootp[BT_DHCP_FIRST_OPTION + 2];
			}
		}
		return;
	}

	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cursor;

		out->counter = BT_CTR_IPV6_OTHER;
		if ((void *)(ip6 + 1) > data_end)
			return;
		/* Extension headers before ICMPv6 are rare on a bridge; they count as IPv6. */
		if (ip6->nexthdr == IPPROTO_ICMPV6)
			out->counter = BT_CTR_ICMP6;
		return;
	}
}

static __always_inline struct bt_counters *bt_port_counters(__u32 ifindex, __u32 dir)
{
	struct bt_port_key key = { .ifindex = ifindex, .dir = dir };
	struct bt_counters *c;

	if (ifindex < BT_DIRECT_IFINDEX_MAX) {
		__u32 idx = ifindex * BT_DIR_MAX + dir;

		return bpf_map_lookup_elem(&bt_counters, &idx);
	}
	c = bpf_map_lookup_elem(&bt_counters_big, &key);
	if (c)
		return c;
	{
		struct bt_counters zero = {};

		bpf_map_update_elem(&bt_counters_big, &key, &zero, BPF_NOEXIST);
	}
	return bpf_map_lookup_elem(&bt_counters_big, &key);
}

static __always_inline void bt_count_vlan(__u32 ifindex, __u32 dir, __u32 vlan_id)
{
	struct bt_vlan_key key = { .ifindex = ifindex, .dir = (__u16)dir, .vlan_id = (__u16)vlan_id };
	__u64 *n;

	if (ifindex < BT_DIRECT_IFINDEX_MAX) {
		__u32 idx = ifindex * BT_DIR_MAX + dir;
		struct bt_vlan_slots *slots = bpf_map_lookup_elem(&bt_vlan_slots, &idx);
		__u16 tag = (__u16)(vlan_id + 1);

		if (slots) {
			/* Slots fill in order, so the first free one ends the search. */
#pragma unroll
			for (int i = 0; i < BT_VLAN_SLOTS; i++) {
				if (slots->vid_plus1[i] == tag) {
					slots->frames[i] += 1;
					return;
				}
				if (slots->vid_plus1[i] == 0) {
					slots->vid_plus1[i] = tag;
					slots->frames[i] = 1;
					return;
				}
			}
		}
	}
	n = bpf_map_lookup_elem(&bt_vlan_frames, &key);

	if (n) {
		*n += 1;
	} else {
		__u64 one = 1;

		bpf_map_update_elem(&bt_vlan_frames, &key, &one, BPF_NOEXIST);
	}
}

/* Count one frame into cls. Per-CPU values, so plain increments are race-free.
 * want_addrs: also read the IPs the event pre-filter needs (a .rodata constant, so the
 * verifier drops those loads when only counting). */
static __always_inline void bt_count(void *data, void *data_end, __u32 len, __u32 ifindex,
				     __u32 dir, __u32 has_offload, __u16 offloaded_tci,
				     __u32 want_addrs, struct bt_class *out)
{
	struct bt_class cls;
	struct bt_counters *c;

	bt_classify(data, data_end, has_offload, offloaded_tci, want_addrs, &cls);
	*out = cls;
	c = bt_port_counters(ifindex, dir);
	if (!c)
		return;
	c->c[BT_CTR_FRAMES] += 1;
	c->c[BT_CTR_BYTES] += len;
	if (cls.counter < BT_CTR_MAX)
		c->c[cls.counter] += 1;
	if (cls.tagged) {
		c->c[BT_CTR_VLAN_TAGGED] += 1;
		bt_count_vlan(ifindex, dir, cls.vlan_id);
	}
}

#endif /* BT_CLASSIFY_BPF_H */
