#pragma once
/*
 * Bridge state through rtnetlink (libmnl): per-port bridge flags (RTM_GETLINK, AF_BRIDGE),
 * device counters and the bridge's own settings (RTM_GETLINK, AF_UNSPEC, with stats), and
 * the forwarding database (RTM_GETNEIGH, AF_BRIDGE). Every dump runs in the calling
 * thread's network namespace, synchronously, calling cb once per object on this thread.
 * Each returns 0 or -errno; -EINTR means the kernel flagged the dump as interrupted (state
 * changed meanwhile) and the caller should discard what it got and dump again.
 */
#include <stdint.h>

#include "bt_netlink.h"

/* A bridge-port flag the kernel did not report (older kernels lack some). */
#define BT_NL_FLAG_UNKNOWN 0xff

/* One link with its counters and, for a bridge, its own settings (IFLA_INFO_DATA). */
struct bt_nl_link_detail {
	struct bt_nl_link link;
	uint8_t has_stats;            /* IFLA_STATS64 was present */
	uint8_t has_bridge_info;      /* a bridge whose IFLA_INFO_DATA was present */
	uint8_t br_vlan_filtering;    /* IFLA_BR_VLAN_FILTERING */
	uint8_t reserved;
	uint32_t br_stp_state;        /* IFLA_BR_STP_STATE: 0 off, 1 kernel STP, 2 user STP */
	uint32_t br_ageing_time;      /* IFLA_BR_AGEING_TIME, in centiseconds (USER_HZ) */
	uint64_t rx_packets;
	uint64_t tx_packets;
	uint64_t rx_bytes;
	uint64_t tx_bytes;
	uint64_t rx_dropped;
	uint64_t tx_dropped;
	uint64_t rx_missed_errors;
	uint64_t tx_errors;
};

typedef void (*bt_nl_link_detail_fn)(const struct bt_nl_link_detail *link, void *ctx);

/* RTM_GETLINK dump (AF_UNSPEC) with IFLA_STATS64 and IFLA_LINKINFO. */
int bt_nl_dump_link_details(bt_nl_link_detail_fn cb, void *ctx);

/* One bridge port from an AF_BRIDGE RTM_GETLINK dump (its IFLA_PROTINFO). */
struct bt_nl_brport {
	int32_t ifindex;
	int32_t master_ifindex;       /* the bridge */
	uint8_t state;                /* IFLA_BRPORT_STATE, BR_STATE_*; BT_NL_FLAG_UNKNOWN if absent */
	uint8_t isolated;             /* 0/1, or BT_NL_FLAG_UNKNOWN */
	uint8_t learning;
	uint8_t unicast_flood;
	uint8_t bcast_flood;
	char name[BT_NL_NAME_LEN];
};

typedef void (*bt_nl_brport_fn)(const struct bt_nl_brport *port, void *ctx);

int bt_nl_dump_bridge_ports(bt_nl_brport_fn cb, void *ctx);

/* One FDB entry from an AF_BRIDGE RTM_GETNEIGH dump. */
struct bt_nl_fdb {
	int32_t ifindex;              /* the port (or the bridge, for its own address) */
	int32_t master_ifindex;       /* NDA_MASTER; 0 for a device's own ("self") entries */
	uint16_t state;               /* NUD_* (NUD_PERMANENT: local, NUD_NOARP: static) */
	uint8_t flags;                /* NTF_* (NTF_SELF, NTF_MASTER, ...) */
	uint8_t has_vlan;
	uint16_t vlan;                /* NDA_VLAN when has_vlan */
	uint8_t mac_len;
	uint8_t mac[BT_NL_MAC_MAX];
};

typedef void (*bt_nl_fdb_fn)(const struct bt_nl_fdb *entry, void *ctx);

int bt_nl_dump_fdb(bt_nl_fdb_fn cb, void *ctx);

/* One IPv4 or IPv6 address of an interface (RTM_GETADDR): the bridge's own addresses, the
 * host's side of the segment. */
struct bt_nl_addr {
	int32_t ifindex;
	uint8_t family;    /* AF_INET or AF_INET6 */
	uint8_t prefixlen;
	uint8_t pad[2];
	uint8_t addr[16];  /* 4 bytes used for AF_INET */
};

typedef void (*bt_nl_addr_fn)(const struct bt_nl_addr *addr, void *ctx);

/* Every address of every interface of the namespace. 0, or -errno. */
int bt_nl_dump_addrs(bt_nl_addr_fn cb, void *ctx);
