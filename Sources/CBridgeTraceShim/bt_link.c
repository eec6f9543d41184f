#include "bt_link.h"

#include <errno.h>

#include <bpf/bpf.h>
#include <linux/if_link.h>

/* libbpf 1.1 has no tcx wrappers: bpf_link_create passes the raw attach types through. */
#define BT_ATTACH_TCX_INGRESS 46
#define BT_ATTACH_TCX_EGRESS 47

int bt_tcx_supported(void)
{
	__u32 count = 0, flags = 0;
	int err;

	/* A query on loopback changes nothing: kernels without tcx reject the attach type
	 * (-EINVAL), kernels with it answer. */
	err = bpf_prog_query(1, (enum bpf_attach_type)BT_ATTACH_TCX_INGRESS, 0, &flags, NULL, &count);
	if (err == 0)
		return 1;
	return err == -EINVAL || err == -EOPNOTSUPP ? 0 : err;
}

int bt_tcx_link(int prog_fd, int ifindex, bool egress)
{
	int fd = bpf_link_create(prog_fd, ifindex,
				 (enum bpf_attach_type)(egress ? BT_ATTACH_TCX_EGRESS : BT_ATTACH_TCX_INGRESS), NULL);

	return fd < 0 ? -errno : fd;
}

int bt_xdp_link(int prog_fd, int ifindex)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);

	return fd < 0 ? -errno : fd;
}
