#pragma once
/*
 * tc clsact filters with bridgetrace's handle and priority (BT_TC_HANDLE, BT_TC_PRIORITY),
 * for kernels without tcx: libbpf's bpf_tc_* take LIBBPF_OPTS structs. Unlike links, these
 * outlive the process (see StaleProgramCleanup).
 */
#include <stdbool.h>
#include <stdint.h>

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
