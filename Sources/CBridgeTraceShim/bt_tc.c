#include "bt_tc.h"

#include <errno.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "bridgetrace.h"

static void init_hook(struct bpf_tc_hook *hook, int ifindex, bool egress)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

int bt_tc_attach(int ifindex, bool egress, int prog_fd, bool *created_hook)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BT_TC_HANDLE, .priority = BT_TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int err;

	init_hook(&hook, ifindex, egress);
	/* Creating clsact is idempotent for us: -EEXIST means someone (maybe us) has it. */
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	*created_hook = (err == 0);
	return bpf_tc_attach(&hook, &opts);
}

int bt_tc_detach(int ifindex, bool egress)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BT_TC_HANDLE, .priority = BT_TC_PRIORITY);

	init_hook(&hook, ifindex, egress);
	return bpf_tc_detach(&hook, &opts);
}

int bt_tc_query(int ifindex, bool egress, uint32_t *prog_id)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BT_TC_HANDLE, .priority = BT_TC_PRIORITY);
	int err;

	*prog_id = 0;
	init_hook(&hook, ifindex, egress);
	err = bpf_tc_query(&hook, &opts);
	if (err == -ENOENT || err == -EINVAL)
		return 0;
	if (err)
		return err;
	*prog_id = opts.prog_id;
	return 0;
}

int bt_tc_hook_destroy(int ifindex)
{
	struct bpf_tc_hook hook;

	init_hook(&hook, ifindex, false);
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	return bpf_tc_hook_destroy(&hook);
}
