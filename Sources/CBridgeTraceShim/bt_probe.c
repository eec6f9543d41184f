#define _GNU_SOURCE
#include "bt_probe.h"
#include "bt_xsk.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif

/* BPF_F_TEST_XDP_LIVE_FRAMES (linux/bpf.h 5.18), which older UAPI headers lack. */
#define BT_PROBE_F_LIVE_FRAMES 2u
#define BT_PROBE_F_XDP_HAS_FRAGS (1u << 5)
#define BT_PROBE_FUNC_XDP_ADJUST_META 54
#define BT_PROBE_FUNC_XDP_LOAD_BYTES 189

/* Raw instructions: the probes are a few each, not worth an object file. */
#define BT_INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define BT_MOV64_IMM(d, i) BT_INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define BT_MOV64_REG(d, s) BT_INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define BT_ADD64_IMM(d, i) BT_INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define BT_CALL(id) BT_INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define BT_EXIT() BT_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static char verifier_log[16384];

static int is_statistics(const char *line)
{
	return strncmp(line, "processed ", 10) == 0 || strncmp(line, "verification time", 17) == 0 ||
	       strncmp(line, "stack depth", 11) == 0;
}

/* The last line of a verifier log that is not its statistics: the verdict. */
static void keep_verdict(const char *from, char *log, size_t log_size)
{
	const char *end, *start;

	if (!log || !log_size)
		return;
	log[0] = '\0';
	if (!from)
		return;
	end = from + strlen(from);
	for (;;) {
		while (end > from && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		start = end;
		while (start > from && start[-1] != '\n')
			start--;
		if (start == from || !is_statistics(start))
			break;
		end = start;
	}
	snprintf(log, log_size, "%.*s", (int)(end - start), start);
}

/* Says which step of a probe refused: "attach: Operation not permitted (EPERM)". */
static void prefix_step(const char *step, char *log, size_t log_size)
{
	char said[512];

	if (!log || !log_size)
		return;
	snprintf(said, sizeof(said), "%s", log);
	snprintf(log, log_size, "%s: %s", step, said);
}

static void keep_errno(int err, char *log, size_t log_size)
{
	if (log && log_size)
		snprintf(log, log_size, "%s (%s)", strerror(err), strerrorname_np(err) ? strerrorname_np(err) : "?");
}

/* Loads `insns`; fd, or -errno with the verifier's verdict in log. */
static int load(enum bpf_prog_type type, const struct bpf_insn *insns, size_t count, struct bpf_prog_load_opts *opts,
		char *log, size_t log_size)
{
	LIBBPF_OPTS(bpf_prog_load_opts, plain);
	int fd, err;

	if (!opts)
		opts = &plain;
	verifier_log[0] = '\0';
	opts->log_buf = verifier_log;
	opts->log_size = sizeof(verifier_log);
	opts->log_level = 1;
	fd = bpf_prog_load(type, "bt_probe", "GPL", insns, count, opts);
	if (fd >= 0)
		return fd;
	err = errno;
	if (verifier_log[0])
		keep_verdict(verifier_log, log, log_size);
	else
		keep_errno(err, log, log_size);
	return -err;
}

/* A load the verifier refused (EINVAL, EACCES) means "not offered"; EPERM and the rest
 * are for the caller to judge. */
static int verdict(int fd)
{
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return fd == -EINVAL || fd == -EACCES || fd == -524 /* ENOTSUPP, kernel-internal */ || fd == -EOPNOTSUPP ? 0 : fd;
}

int bt_probe_xdp_adjust_meta(char *log, size_t log_size)
{
	const struct bpf_insn insns[] = {
		BT_MOV64_IMM(BPF_REG_2, -8), BT_CALL(BT_PROBE_FUNC_XDP_ADJUST_META),
		BT_MOV64_IMM(BPF_REG_0, 2 /* XDP_PASS */), BT_EXIT(),
	};

	return verdict(load(BPF_PROG_TYPE_XDP, insns, 4, NULL, log, log_size));
}

int bt_probe_xdp_load_bytes(char *log, size_t log_size)
{
	const struct bpf_insn insns[] = {
		BT_MOV64_IMM(BPF_REG_2, 0),     BT_MOV64_REG(BPF_REG_3, BPF_REG_10), BT_ADD64_IMM(BPF_REG_3, -8),
		BT_MOV64_IMM(BPF_REG_4, 8),     BT_CALL(BT_PROBE_FUNC_XDP_LOAD_BYTES),
		BT_MOV64_IMM(BPF_REG_0, 2),     BT_EXIT(),
	};

	return verdict(load(BPF_PROG_TYPE_XDP, insns, 7, NULL, log, log_size));
}

int bt_probe_xdp_live_frames(char *log, size_t log_size)
{
	const struct bpf_insn insns[] = { BT_MOV64_IMM(BPF_REG_0, 1 /* XDP_DROP: nothing is sent */), BT_EXIT() };
	unsigned char frame[64] = { [12] = 0x08, [13] = 0x00 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame), .repeat = 1,
		    .flags = BT_PROBE_F_LIVE_FRAMES);
	int fd = load(BPF_PROG_TYPE_XDP, insns, 2, NULL, log, log_size);
	int rc, err;

	if (fd < 0)
		return fd;
	rc = bpf_prog_test_run_opts(fd, &opts);
	err = errno;
	close(fd);
	if (rc == 0)
		return 1;
	keep_errno(err, log, log_size);
	prefix_step("test run with BPF_F_TEST_XDP_LIVE_FRAMES", log, log_size);
	/* EINVAL: the flag is unknown (before 5.18). EPERM: a build that refuses it to root. */
	return err == EINVAL || err == EOPNOTSUPP || err == EPERM ? 0 : -err;
}

int bt_probe_xdp_frags(char *log, size_t log_size)
{
	const struct bpf_insn insns[] = { BT_MOV64_IMM(BPF_REG_0, 2 /* XDP_PASS */), BT_EXIT() };
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_flags = BT_PROBE_F_XDP_HAS_FRAGS);

	/* Before 5.18 the flag is unknown and the load fails with EINVAL. */
	return verdict(load(BPF_PROG_TYPE_XDP, insns, 2, &opts, log, log_size));
}

int bt_probe_af_xdp_sg(char *log, size_t log_size)
{
	/* A copy-mode socket bound to lo with XDP_USE_SG: no program is attached, so lo's
	 * traffic is untouched. Before 6.6 the bind flag is unknown (EINVAL). */
	int err = 0;
	struct bt_xsk *x = bt_xsk_open_sg("lo", 0, 64, 0, 1, &err);

	if (x) {
		bt_xsk_close(x);
		return 1;
	}
	keep_errno(-err, log, log_size);
	prefix_step("bind an AF_XDP socket to lo with XDP_USE_SG", log, log_size);
	return err == -EINVAL || err == -EOPNOTSUPP ? 0 : err;
}

int bt_probe_ringbuf(char *log, size_t log_size)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "bt_probe", 0, 0, 4096, NULL);
	int err = errno;

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	keep_errno(err, log, log_size);
	return err == EINVAL ? 0 : -err;
}

int bt_probe_af_xdp(char *log, size_t log_size)
{
	int sock = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0), map, err = errno;

	if (sock < 0) {
		keep_errno(err, log, log_size);
		return err == EAFNOSUPPORT ? 0 : -err;
	}
	close(sock);
	map = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "bt_probe", 4, 4, 1, NULL);
	err = errno;
	if (map < 0) {
		keep_errno(err, log, log_size);
		return err == EINVAL ? 0 : -err;
	}
	close(map);
	return 1;
}

int bt_probe_tp_btf_kfree_skb(char *log, size_t log_size)
{
	const struct bpf_insn insns[] = { BT_MOV64_IMM(BPF_REG_0, 0), BT_EXIT() };
	int id = libbpf_find_vmlinux_btf_id("kfree_skb", BPF_TRACE_RAW_TP);
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP);
	int fd, link, err;

	if (id < 0) {
		if (log && log_size)
			snprintf(log, log_size, "no btf_trace_kfree_skb in the kernel's BTF");
		return 0;
	}
	opts.attach_btf_id = (__u32)id;
	fd = load(BPF_PROG_TYPE_TRACING, insns, 2, &opts, log, log_size);
	if (fd < 0)
		return verdict(fd);
	link = bpf_raw_tracepoint_open(NULL, fd);
	err = errno;
	close(fd);
	if (link >= 0) {
		close(link);
		return 1;
	}
	keep_errno(err, log, log_size);
	prefix_step("attach", log, log_size);
	return err == EPERM || err == EINVAL || err == EOPNOTSUPP ? 0 : -err;
}

int bt_probe_freplace(char *log, size_t log_size)
{
	const struct bpf_insn insns[] = { BT_MOV64_IMM(BPF_REG_0, 2), BT_EXIT() };
	struct btf *btf = btf__new_empty();
	struct bpf_func_info info = { .insn_off = 0 };
	int u32_id, int_id, md_id, ptr_id, proto_id, func_id, target = -1, ext = -1, link = -1, rc, err;

	if (!btf)
		return -ENOMEM;
	/* int f(struct xdp_md *ctx): the shape of libxdp's dispatcher slots. */
	u32_id = btf__add_int(btf, "unsigned int", 4, 0);
	int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	md_id = btf__add_struct(btf, "xdp_md", 24);
	btf__add_field(btf, "data", u32_id, 0, 0);
	btf__add_field(btf, "data_end", u32_id, 32, 0);
	btf__add_field(btf, "data_meta", u32_id, 64, 0);
	btf__add_field(btf, "ingress_ifindex", u32_id, 96, 0);
	btf__add_field(btf, "rx_queue_index", u32_id, 128, 0);
	btf__add_field(btf, "egress_ifindex", u32_id, 160, 0);
	ptr_id = btf__add_ptr(btf, md_id);
	proto_id = btf__add_func_proto(btf, int_id);
	btf__add_func_param(btf, "ctx", ptr_id);
	func_id = btf__add_func(btf, "bt_probe_slot", BTF_FUNC_GLOBAL, proto_id);
	if (func_id < 0 || btf__load_into_kernel(btf)) {
		err = errno;
		btf__free(btf);
		keep_errno(err, log, log_size);
		return -err;
	}
	info.type_id = (__u32)func_id;
	{
		LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_btf_fd = (__u32)btf__fd(btf), .func_info = &info,
			    .func_info_cnt = 1, .func_info_rec_size = sizeof(info));
		target = load(BPF_PROG_TYPE_XDP, insns, 2, &opts, log, log_size);
	}
	if (target < 0) {
		rc = target;
		goto out;
	}
	{
		LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_btf_fd = (__u32)btf__fd(btf), .func_info = &info,
			    .func_info_cnt = 1, .func_info_rec_size = sizeof(info), .attach_prog_fd = (__u32)target,
			    .attach_btf_id = (__u32)func_id);
		ext = load(BPF_PROG_TYPE_EXT, insns, 2, &opts, log, log_size);
	}
	if (ext < 0) {
		prefix_step("freplace program load", log, log_size);
		rc = ext == -EPERM ? 0 : verdict(ext);
		goto out;
	}
	link = bpf_raw_tracepoint_open(NULL, ext);
	if (link < 0) {
		err = errno;
		keep_errno(err, log, log_size);
		prefix_step("freplace attach", log, log_size);
		rc = err == EPERM || err == EINVAL || err == EOPNOTSUPP ? 0 : -err;
		goto out;
	}
	rc = 1;
out:
	if (link >= 0)
		close(link);
	if (ext >= 0)
		close(ext);
	if (target >= 0)
		close(target);
	btf__free(btf);
	return rc;
}

int bt_probe_bpf_stats(char *log, size_t log_size)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME), err = errno;

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	keep_errno(err, log, log_size);
	return err == EINVAL ? 0 : -err;
}

int bt_probe_vmlinux_type(const char *name, int kind)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int id;

	if (!btf)
		return -errno;
	id = btf__find_by_name_kind(btf, name, (__u32)kind);
	btf__free(btf);
	return id > 0 ? 1 : 0;
}
