#define _GNU_SOURCE
#include "bt_shim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>

#include "bridgetrace.h"

static bt_log_fn log_handler;

static int forward_log(int level, const char *fmt, va_list args)
{
	char line[1024];
	size_t n;

	if (!log_handler)
		return 0;
	vsnprintf(line, sizeof(line), fmt, args);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	log_handler(level, line);
	return 0;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return forward_log((int)level, fmt, args);
}

static int libxdp_log(enum libxdp_print_level level, const char *fmt, va_list args)
{
	return forward_log((int)level, fmt, args);
}

void bt_set_log_handler(bt_log_fn fn)
{
	log_handler = fn;
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);
}

struct bpf_object *bt_object_open_mem(const void *bytes, size_t len, const char *name)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name);
	struct bpf_object *obj = bpf_object__open_mem(bytes, len, &opts);
	long err = libbpf_get_error(obj);

	if (err) {
		errno = (int)-err;
		return NULL;
	}
	return obj;
}

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

/* ---- bpf_link attach (tcx, XDP): links go away with the last fd, so a killed run leaves
 * nothing behind. libbpf 1.1 has no tcx wrappers; bpf_link_create passes the raw attach
 * types through. */
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

#include <sys/vfs.h>

int bt_fs_magic(const char *path, unsigned long *magic)
{
	struct statfs info;

	if (statfs(path, &info) != 0)
		return -errno;
	*magic = (unsigned long)info.f_type;
	return 0;
}

#include <bpf/btf.h>

int bt_object_set_rodata(struct bpf_object *obj, const char *var, const void *val, size_t size)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	struct bpf_map *map;
	size_t data_size;
	char *data = NULL;
	int id, i;

	if (!btf)
		return -ENOENT;
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t n = strlen(name);

		if (bpf_map__is_internal(map) && n >= 7 && strcmp(name + n - 7, ".rodata") == 0) {
			data = bpf_map__initial_value(map, &data_size);
			break;
		}
	}
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (!data || id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, v->name_off), var) != 0)
			continue;
		if (vs->size != size || vs->offset + size > data_size)
			return -EINVAL;
		memcpy(data + vs->offset, val, size);
		return 0;
	}
	return -ENOENT;
}
