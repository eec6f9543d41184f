#define _GNU_SOURCE
#include "bt_netlink_bridge.h"
#include "bt_netlink_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

struct detail_state {
	bt_nl_link_detail_fn cb;
	void *ctx;
};

struct brport_state {
	bt_nl_brport_fn cb;
	void *ctx;
};

struct fdb_state {
	bt_nl_fdb_fn cb;
	void *ctx;
};

struct addr_state {
	bt_nl_addr_fn cb;
	void *ctx;
};

static int put_link_request(char *buf, unsigned char family, uint32_t ext_mask, struct nlmsghdr **out)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = family;
	if (ext_mask)
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, ext_mask);
	*out = nlh;
	return 0;
}

/* u8/u32 attributes: validate the length before reading, as the kernel may grow them. */
static int get_u8(const struct nlattr *attr, uint8_t *out)
{
	if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
		return -errno;
	*out = mnl_attr_get_u8(attr);
	return 0;
}

static int get_u32(const struct nlattr *attr, uint32_t *out)
{
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return -errno;
	*out = mnl_attr_get_u32(attr);
	return 0;
}

static int parse_bridge_info(const struct nlattr *data, struct bt_nl_link_detail *d)
{
	const struct nlattr *attr;
	int err = 0;

	d->has_bridge_info = 1;
	mnl_attr_for_each_nested(attr, data) {
		switch (mnl_attr_get_type(attr)) {
		case IFLA_BR_STP_STATE:
			err = get_u32(attr, &d->br_stp_state);
			break;
		case IFLA_BR_VLAN_FILTERING:
			err = get_u8(attr, &d->br_vlan_filtering);
			break;
		case IFLA_BR_AGEING_TIME:
			err = get_u32(attr, &d->br_ageing_time);
			break;
		}
		if (err < 0)
			return err;
	}
	return 0;
}

static void copy_stats64(const struct nlattr *attr, struct bt_nl_link_detail *d)
{
	struct rtnl_link_stats64 stats;
	size_t len = mnl_attr_get_payload_len(attr);

	memset(&stats, 0, sizeof(stats));
	memcpy(&stats, mnl_attr_get_payload(attr), len < sizeof(stats) ? len : sizeof(stats));
	d->has_stats = 1;
	d->rx_packets = stats.rx_packets;
	d->tx_packets = stats.tx_packets;
	d->rx_bytes = stats.rx_bytes;
	d->tx_bytes = stats.tx_bytes;
	d->rx_dropped = stats.rx_dropped;
	d->tx_dropped = stats.tx_dropped;
	d->rx_missed_errors = stats.rx_missed_errors;
	d->tx_errors = stats.tx_errors;
}

static int on_link_detail(const struct nlmsghdr *nlh, void *data)
{
	struct detail_state *state = data;
	struct bt_nl_link_detail d;
	const struct nlattr *attr, *info;
	int err;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	memset(&d, 0, sizeof(d));
	err = bt_nl_parse_link(nlh, &d.link);
	if (err < 0)
		goto fail;

	mnl_attr_for_each(attr, nlh, sizeof(struct ifinfomsg)) {
		switch (mnl_attr_get_type(attr)) {
		case IFLA_STATS64:
			copy_stats64(attr, &d);
			break;
		case IFLA_LINKINFO:
			/* bt_nl_parse_link validated the nest and read the kind. */
			if (strcmp(d.link.kind, "bridge") != 0)
				break;
			mnl_attr_for_each_nested(info, attr) {
				if (mnl_attr_get_type(info) != IFLA_INFO_DATA)
					continue;
				err = parse_bridge_info(info, &d);
				if (err < 0)
					goto fail;
			}
			break;
		}
	}
	state->cb(&d, state->ctx);
	return MNL_CB_OK;
fail:
	errno = -err;
	return MNL_CB_ERROR;
}

int bt_nl_dump_link_details(bt_nl_link_detail_fn cb, void *ctx)
{
	struct detail_state state = { .cb = cb, .ctx = ctx };
	char buf[BT_NL_REQUEST_BUF] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;

	if (!cb)
		return -EINVAL;
	put_link_request(buf, AF_UNSPEC, 0, &nlh);
	return bt_nl_dump(nlh, on_link_detail, &state);
}

static int parse_protinfo(const struct nlattr *nest, struct bt_nl_brport *p)
{
	const struct nlattr *attr;
	int err = 0;

	mnl_attr_for_each_nested(attr, nest) {
		switch (mnl_attr_get_type(attr)) {
		case IFLA_BRPORT_STATE:
			err = get_u8(attr, &p->state);
			break;
		case IFLA_BRPORT_ISOLATED:
			err = get_u8(attr, &p->isolated);
			break;
		case IFLA_BRPORT_LEARNING:
			err = get_u8(attr, &p->learning);
			break;
		case IFLA_BRPORT_UNICAST_FLOOD:
			err = get_u8(attr, &p->unicast_flood);
			break;
		case IFLA_BRPORT_BCAST_FLOOD:
			err = get_u8(attr, &p->bcast_flood);
			break;
		}
		if (err < 0)
			return err;
	}
	return 0;
}

static int on_brport(const struct nlmsghdr *nlh, void *data)
{
	struct brport_state *state = data;
	struct bt_nl_link link;
	struct bt_nl_brport port;
	const struct nlattr *attr;
	bool has_protinfo = false;
	int err;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	err = bt_nl_parse_link(nlh, &link);
	if (err < 0)
		goto fail;

	memset(&port, 0, sizeof(port));
	port.ifindex = link.ifindex;
	port.master_ifindex = link.master_ifindex;
	memcpy(port.name, link.name, sizeof(port.name));
	port.state = BT_NL_FLAG_UNKNOWN;
	port.isolated = BT_NL_FLAG_UNKNOWN;
	port.learning = BT_NL_FLAG_UNKNOWN;
	port.unicast_flood = BT_NL_FLAG_UNKNOWN;
	port.bcast_flood = BT_NL_FLAG_UNKNOWN;

	mnl_attr_for_each(attr, nlh, sizeof(struct ifinfomsg)) {
		if (mnl_attr_get_type(attr) != IFLA_PROTINFO)
			continue;
		/* Old kernels sent a bare u8 state here; since 3.x it is a nest. */
		if (attr->nla_type & NLA_F_NESTED) {
			if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0) {
				err = -errno;
				goto fail;
			}
			err = parse_protinfo(attr, &port);
			if (err < 0)
				goto fail;
		} else if (mnl_attr_get_payload_len(attr) >= 1) {
			port.state = mnl_attr_get_u8(attr);
		}
		has_protinfo = true;
	}
	/* Only ports carry IFLA_PROTINFO; anything else (a bridge's own entry) is skipped. */
	if (has_protinfo)
		state->cb(&port, state->ctx);
	return MNL_CB_OK;
fail:
	errno = -err;
	return MNL_CB_ERROR;
}

int bt_nl_dump_bridge_ports(bt_nl_brport_fn cb, void *ctx)
{
	struct brport_state state = { .cb = cb, .ctx = ctx };
	char buf[BT_NL_REQUEST_BUF] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;

	if (!cb)
		return -EINVAL;
	put_link_request(buf, AF_BRIDGE, 0, &nlh);
	return bt_nl_dump(nlh, on_brport, &state);
}

static int on_fdb(const struct nlmsghdr *nlh, void *data)
{
	struct fdb_state *state = data;
	const struct ndmsg *ndm;
	const struct nlattr *attr;
	struct bt_nl_fdb entry;
	uint32_t master;
	int err = 0;

	if (nlh->nlmsg_type != RTM_NEWNEIGH)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ndm)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	ndm = mnl_nlmsg_get_payload(nlh);
	if (ndm->ndm_family != AF_BRIDGE)
		return MNL_CB_OK;

	memset(&entry, 0, sizeof(entry));
	entry.ifindex = ndm->ndm_ifindex;
	entry.state = ndm->ndm_state;
	entry.flags = ndm->ndm_flags;

	mnl_attr_for_each(attr, nlh, sizeof(*ndm)) {
		switch (mnl_attr_get_type(attr)) {
		case NDA_LLADDR: {
			uint16_t len = mnl_attr_get_payload_len(attr);

			if (len > sizeof(entry.mac))
				len = sizeof(entry.mac);
			memcpy(entry.mac, mnl_attr_get_payload(attr), len);
			entry.mac_len = (uint8_t)len;
			break;
		}
		case NDA_MASTER:
			err = get_u32(attr, &master);
			if (err == 0)
				entry.master_ifindex = (int32_t)master;
			break;
		case NDA_VLAN:
			if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0) {
				err = -errno;
				break;
			}
			entry.vlan = mnl_attr_get_u16(attr);
			entry.has_vlan = 1;
			break;
		}
		if (err < 0) {
			errno = -err;
			return MNL_CB_ERROR;
		}
	}
	state->cb(&entry, state->ctx);
	return MNL_CB_OK;
}

int bt_nl_dump_fdb(bt_nl_fdb_fn cb, void *ctx)
{
	struct fdb_state state = { .cb = cb, .ctx = ctx };
	char buf[BT_NL_REQUEST_BUF] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	if (!cb)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	/* A bare ndmsg: the kernel's legacy parser takes it as "no filter". */
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	return bt_nl_dump(nlh, on_fdb, &state);
}

static int on_addr(const struct nlmsghdr *nlh, void *data)
{
	struct addr_state *state = data;
	const struct ifaddrmsg *ifa;
	const struct nlattr *attr;
	struct bt_nl_addr out;
	const struct nlattr *address = NULL, *local = NULL, *chosen;
	size_t len;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			address = attr;
		else if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = attr;
	}
	/* IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer's on a point-to-point link). */
	chosen = local ? local : address;
	if (!chosen)
		return MNL_CB_OK;
	len = ifa->ifa_family == AF_INET ? 4 : 16;
	if (mnl_attr_get_payload_len(chosen) < len)
		return MNL_CB_OK;
	memset(&out, 0, sizeof(out));
	out.ifindex = (int32_t)ifa->ifa_index;
	out.family = ifa->ifa_family;
	out.prefixlen = ifa->ifa_prefixlen;
	memcpy(out.addr, mnl_attr_get_payload(chosen), len);
	state->cb(&out, state->ctx);
	return MNL_CB_OK;
}

int bt_nl_dump_addrs(bt_nl_addr_fn cb, void *ctx)
{
	struct addr_state state = { .cb = cb, .ctx = ctx };
	char buf[BT_NL_REQUEST_BUF] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (!cb)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	return bt_nl_dump(nlh, on_addr, &state);
}
