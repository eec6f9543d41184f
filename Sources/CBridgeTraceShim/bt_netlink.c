#define _GNU_SOURCE
#include "bt_netlink.h"
#include "bt_netlink_internal.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/if.h>

/*
 * The kernel sizes dump skbs from our recvmsg length, capped near 32 KiB, so a buffer
 * this large never truncates a message (libmnl's default is one page).
 */
#define BT_NL_RECV_BUF (32 * 1024)

struct dump_state {
	bt_nl_link_fn cb;
	void *ctx;
};

/* Copy an attribute's string, truncating, always NUL-terminating. */
static void copy_str(char *dst, size_t len, const struct nlattr *attr)
{
	size_t n = strnlen(mnl_attr_get_str(attr), mnl_attr_get_payload_len(attr));

	if (n >= len)
		n = len - 1;
	memcpy(dst, mnl_attr_get_str(attr), n);
	dst[n] = '\0';
}

static int parse_linkinfo(const struct nlattr *info, struct bt_nl_link *link)
{
	const struct nlattr *attr;

	mnl_attr_for_each_nested(attr, info) {
		switch (mnl_attr_get_type(attr)) {
		case IFLA_INFO_KIND:
			if (mnl_attr_validate(attr, MNL_TYPE_STRING) < 0)
				return -errno;
			copy_str(link->kind, sizeof(link->kind), attr);
			break;
		case IFLA_INFO_SLAVE_KIND:
			if (mnl_attr_validate(attr, MNL_TYPE_STRING) < 0)
				return -errno;
			copy_str(link->slave_kind, sizeof(link->slave_kind), attr);
			break;
		}
	}
	return 0;
}

static int parse_attr(const struct nlattr *attr, struct bt_nl_link *link)
{
	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_STRING) < 0)
			return -errno;
		copy_str(link->name, sizeof(link->name), attr);
		break;
	case IFLA_MASTER:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return -errno;
		link->master_ifindex = (int32_t)mnl_attr_get_u32(attr);
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return -errno;
		link->mtu = mnl_attr_get_u32(attr);
		break;
	case IFLA_OPERSTATE:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
			return -errno;
		link->operstate = mnl_attr_get_u8(attr);
		break;
	case IFLA_CARRIER:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
			return -errno;
		link->carrier = mnl_attr_get_u8(attr) ? 1 : 0;
		break;
	case IFLA_ADDRESS: {
		uint16_t len = mnl_attr_get_payload_len(attr);

		if (len > sizeof(link->mac))
			len = sizeof(link->mac);
		memcpy(link->mac, mnl_attr_get_payload(attr), len);
		link->mac_len = (uint8_t)len;
		break;
	}
	case IFLA_LINKINFO:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			return -errno;
		return parse_linkinfo(attr, link);
	}
	return 0;
}

int bt_nl_parse_link(const struct nlmsghdr *nlh, struct bt_nl_link *link)
{
	const struct ifinfomsg *ifi;
	const struct nlattr *attr;
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EBADMSG;

	ifi = mnl_nlmsg_get_payload(nlh);
	memset(link, 0, sizeof(*link));
	link->ifindex = ifi->ifi_index;
	link->flags = ifi->ifi_flags;
	link->operstate = IF_OPER_UNKNOWN;
	link->carrier = BT_NL_CARRIER_UNKNOWN;

	mnl_attr_for_each(attr, nlh, sizeof(*ifi)) {
		err = parse_attr(attr, link);
		if (err < 0)
			return err;
	}
	return 0;
}

static int on_link(const struct nlmsghdr *nlh, void *data)
{
	struct dump_state *state = data;
	struct bt_nl_link link;
	int err;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	err = bt_nl_parse_link(nlh, &link);
	if (err < 0) {
		errno = -err;
		return MNL_CB_ERROR;
	}
	state->cb(&link, state->ctx);
	return MNL_CB_OK;
}

/*
 * The kernel may flag any part of a dump, NLMSG_DONE included, which libmnl handles
 * without calling us; so look at every header before libmnl runs the buffer.
 */
static bool dump_interrupted(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			return true;
	return false;
}

static int run_dump(struct mnl_socket *nl, struct nlmsghdr *request, mnl_cb_t cb, void *ctx)
{
	char *buf;
	unsigned int seq = (unsigned int)time(NULL);
	unsigned int portid = mnl_socket_get_portid(nl);
	bool interrupted = false;
	ssize_t n;
	int ret;

	buf = malloc(BT_NL_RECV_BUF);
	if (!buf)
		return -ENOMEM;

	request->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	request->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, request, request->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}

	/*
	 * mnl_cb_run returns MNL_CB_OK while more parts follow, MNL_CB_STOP at NLMSG_DONE,
	 * and MNL_CB_ERROR with errno set from an NLMSG_ERROR or from our callback.
	 */
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, BT_NL_RECV_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;   /* ENOSPC: a message did not fit (MSG_TRUNC) */
			goto out;
		}
		if (n == 0) {
			ret = -EPIPE;
			goto out;
		}
		if (dump_interrupted(buf, (size_t)n))
			interrupted = true;
		errno = 0;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, ctx);
		if (ret == MNL_CB_STOP)
			break;
		if (ret < 0) {
			ret = errno ? -errno : -EIO;
			goto out;
		}
	}
	ret = interrupted ? -EINTR : 0;
out:
	free(buf);
	return ret;
}

int bt_nl_dump(struct nlmsghdr *request, mnl_cb_t cb, void *ctx)
{
	struct mnl_socket *nl;
	int ret;

	if (!request || !cb)
		return -EINVAL;
	/* The socket belongs to the netns current at creation: this thread's. */
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	ret = run_dump(nl, request, cb, ctx);
out:
	mnl_socket_close(nl);
	return ret;
}

int bt_nl_dump_links(bt_nl_link_fn cb, void *ctx)
{
	struct dump_state state = { .cb = cb, .ctx = ctx };
	char buf[BT_NL_REQUEST_BUF] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (!cb)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	/* Counters are not needed and make each message several times larger. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return bt_nl_dump(nlh, on_link, &state);
}

int bt_nl_setns_net(int fd)
{
	return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}
