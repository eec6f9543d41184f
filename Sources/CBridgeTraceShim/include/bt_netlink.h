#pragma once
/*
 * Prefixed C shims (bt_nl_*) for rtnetlink link discovery through libmnl, whose
 * nlmsg/attribute macros Swift cannot import, and for setns(2), which Swift's Glibc
 * module does not expose.
 */
#include <stdint.h>

#define BT_NL_NAME_LEN 16    /* IFNAMSIZ, and plenty for a link kind */
#define BT_NL_MAC_MAX 32     /* MAX_ADDR_LEN */
#define BT_NL_CARRIER_UNKNOWN 0xff

/* One link from an RTM_GETLINK dump. Strings are always NUL-terminated. */
struct bt_nl_link {
	int32_t ifindex;
	int32_t master_ifindex;        /* IFLA_MASTER; 0 when the link has no master */
	uint32_t mtu;
	uint32_t flags;                /* IFF_* from ifinfomsg */
	uint8_t operstate;             /* IF_OPER_* (RFC 2863) */
	uint8_t carrier;               /* IFLA_CARRIER 0/1, BT_NL_CARRIER_UNKNOWN if absent */
	uint8_t mac_len;               /* 0 when the link has no hardware address */
	uint8_t mac[BT_NL_MAC_MAX];
	char name[BT_NL_NAME_LEN];
	char kind[BT_NL_NAME_LEN];     /* IFLA_INFO_KIND ("bridge", "veth"), "" if none */
	char slave_kind[BT_NL_NAME_LEN]; /* IFLA_INFO_SLAVE_KIND ("bridge" for a port) */
};

typedef void (*bt_nl_link_fn)(const struct bt_nl_link *link, void *ctx);

/*
 * Dump every link of the calling thread's current network namespace, calling cb once
 * per link, synchronously, on this thread. Returns 0 or -errno. -EINTR means the kernel
 * flagged the dump as interrupted (links changed meanwhile): the links already passed
 * to cb may be inconsistent and the caller should discard them and dump again.
 */
int bt_nl_dump_links(bt_nl_link_fn cb, void *ctx);

/* setns(fd, CLONE_NEWNET) for the calling thread only. Returns 0 or -errno. */
int bt_nl_setns_net(int fd);
