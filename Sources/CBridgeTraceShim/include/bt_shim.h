#pragma once
/*
 * Prefixed C shims (bt_*) for what Swift cannot call directly: libbpf's LIBBPF_OPTS
 * structs, variadic print callbacks, and tc hook bookkeeping.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_object;

/* Log lines from libbpf and libxdp go here (level: 0 warn, 1 info, 2 debug). */
typedef void (*bt_log_fn)(int level, const char *line);
void bt_set_log_handler(bt_log_fn fn);

/* bpf_object__open_mem with a fixed object name; NULL and errno on failure. */
struct bpf_object *bt_object_open_mem(const void *bytes, size_t len, const char *name);

/*
 * Attach prog_fd at clsact ingress or egress of ifindex with bridgetrace's handle and
 * priority, replacing a stale bridgetrace filter. *created_hook is set when this call
 * created the clsact qdisc (so only then should it be destroyed). Returns 0 or -errno.
 */
int bt_tc_attach(int ifindex, bool egress, int prog_fd, bool *created_hook);
/* Detach bridgetrace's filter; -ENOENT when none. */
int bt_tc_detach(int ifindex, bool egress);
/* Program id of bridgetrace's filter at that hook, 0 when none, or -errno. */
int bt_tc_query(int ifindex, bool egress, uint32_t *prog_id);
/* Remove the clsact qdisc (both directions). Call only for a qdisc we created. */
int bt_tc_hook_destroy(int ifindex);

/* 1 when the kernel has tcx (BPF_TCX_INGRESS/EGRESS links), 0 when not, or -errno. */
int bt_tcx_supported(void);
/* A tcx link for prog_fd at ingress or egress of ifindex: the link fd, or -errno. The
 * program is detached when the last fd of the link closes (also on SIGKILL). */
int bt_tcx_link(int prog_fd, int ifindex, bool egress);
/* A native-mode XDP link (BPF_XDP): the link fd, or -errno (-EBUSY: another program
 * holds the port without a link). */
int bt_xdp_link(int prog_fd, int ifindex);

/* statfs(2) f_type of path (sys/vfs.h is not in Swift's Glibc module). 0 or -errno. */
int bt_fs_magic(const char *path, unsigned long *magic);

/*
 * Writes `size` bytes into the `const volatile` global `var` in the object's .rodata,
 * before load (the verifier then treats it as a constant). The offset is looked up in
 * the object's BTF. 0, -ENOENT (no such variable) or -EINVAL (size mismatch).
 */
int bt_object_set_rodata(struct bpf_object *obj, const char *var, const void *val, size_t size);
