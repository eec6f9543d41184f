/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The few kernel fields the tracepoint programs read from a struct net_device: its
 * ifindex and its network namespace's inode number. Declared with preserve_access_index
 * instead of vmlinux.h; libbpf relocates them against the running kernel's BTF (CO-RE).
 */
#pragma once

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	int ifindex;
	possible_net_t nd_net;
} __attribute__((preserve_access_index));
