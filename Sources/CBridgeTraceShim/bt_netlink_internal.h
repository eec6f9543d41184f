#pragma once
/*
 * Shared by the shim's netlink files; not part of the Swift-visible API (it lives outside
 * include/ and names libmnl types).
 */
#include <libmnl/libmnl.h>

#include "bt_netlink.h"

/*
 * Send `request` (an nlmsghdr with its type, family header and attributes in place; flags
 * and sequence are set here) as a dump on a fresh NETLINK_ROUTE socket in the calling
 * thread's netns, and run cb on every reply message until NLMSG_DONE. Returns 0, -errno,
 * or -EINTR when the kernel flagged the dump as interrupted (the caller should redo it).
 */
int bt_nl_dump(struct nlmsghdr *request, mnl_cb_t cb, void *ctx);

/* Enough for any dump request this shim sends. */
#define BT_NL_REQUEST_BUF 512

/* Fill `link` from an RTM_NEWLINK message (any family). Returns 0 or -errno. */
int bt_nl_parse_link(const struct nlmsghdr *nlh, struct bt_nl_link *link);
