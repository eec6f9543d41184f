#define _GNU_SOURCE
#include "bt_bench.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netpacket/packet.h>
#include <sys/socket.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "bridgetrace.h"
#include "bt_xsk.h"

uint64_t bt_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int bt_bench_xdp_live_run(int prog_fd, const void *frame, uint32_t len, uint32_t ingress_ifindex,
			  uint32_t repeat, uint32_t batch, uint64_t *duration_ns)
{
	/* data_end must equal the frame length; everything else but the ifindex stays 0. */
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ingress_ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = repeat, .batch_size = batch,
		    .flags = BT_BENCH_F_TEST_XDP_LIVE_FRAMES);
	int rc = bpf_prog_test_run_opts(prog_fd, &opts);

	if (rc < 0)
		return errno ? -errno : rc;
	*duration_ns = (uint64_t)opts.duration * (repeat ? repeat : 1);
	return 0;
}

int bt_bench_packet_open(int ifindex)
{
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_ifindex = ifindex };
	int one = 1;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* protocol 0: send only */

	if (fd < 0)
		return -errno;
	/* Straight to the driver, like trafgen: the qdisc is the DUT's business, not ours. */
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static uint16_t csum_replace(uint16_t check, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~check + (uint16_t)~old + new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The same rewrite as bench_gen.bpf.c, on a userspace copy of the frame. */
static void stamp_frame(uint8_t *f, const struct bt_bench_gen_config *cfg, uint64_t seq, uint64_t now)
{
	uint8_t *ip = f + cfg->l3_offset;
	uint8_t *udp = ip + 20;
	struct bt_bench_stamp stamp = { .tx_ns = now, .seq = (uint32_t)seq, .trial = cfg->trial };

	if (cfg->flows > 1) {
		uint32_t flow = (uint32_t)(seq % cfg->flows);
		uint16_t old_lo, new_lo = htons((uint16_t)(cfg->src_ip_lo + flow));
		uint16_t check, port = htons((uint16_t)(cfg->src_port + flow));

		f[10] = (uint8_t)(flow >> 8);
		f[11] = (uint8_t)flow;
		memcpy(&old_lo, ip + 14, 2);
		memcpy(&check, ip + 10, 2);
		check = csum_replace(check, old_lo, new_lo);
		memcpy(ip + 10, &check, 2);
		memcpy(ip + 14, &new_lo, 2);
		memcpy(udp, &port, 2);
	}
	memcpy(udp + 8, &stamp, sizeof(stamp));
}

/* How a sender puts n stamped frames (bufs, len bytes apart) on the wire: 0 or -errno. */
typedef int (*bt_bench_send_fn)(void *ctx, uint8_t *bufs, uint32_t len, uint32_t n);

/*
 * The userspace senders' loop: bench_gen.bpf.c's pacing, stamping and accounting, with
 * `send` in place of the redirect. Paced, it sends every frame that is due in one call
 * (up to `batch`), so a late wake-up catches up as the program does, one syscall for
 * the lot; further behind than catchup_ns, it starts a new schedule.
 */
static int bench_run(struct bt_bench_gen *gen, const void *frame, uint32_t len, uint64_t until_ns,
		     uint32_t batch, bt_bench_send_fn send, void *ctx)
{
	struct bt_bench_gen_config *cfg = &gen->config;
	struct bt_bench_gen_state *st = &gen->state;
	uint8_t *bufs;
	int rc = 0;

	if (batch < 1 || batch > BT_BENCH_SEND_BATCH_MAX)
		batch = batch < 1 ? 1 : BT_BENCH_SEND_BATCH_MAX;
	bufs = malloc((size_t)len * batch);
	if (!bufs)
		return -ENOMEM;
	/* Each buffer is stamped in place again and again: stamp_frame keeps it consistent. */
	for (uint32_t i = 0; i < batch; i++)
		memcpy(bufs + (size_t)i * len, frame, len);
	while (st->sent < cfg->limit) {
		uint64_t now = bt_bench_now_ns();
		uint32_t n = batch;

		if (now >= until_ns)
			break;
		if (cfg->gap_ns) {
			uint64_t due = st->next_due_ns;

			if (now < due) {
				st->idle += 1;
				continue; /* spin: the gap is shorter than a sleep's wake-up */
			}
			if (now - due > cfg->catchup_ns)
				due = now;
			if ((now - due) / cfg->gap_ns + 1 < n)
				n = (uint32_t)((now - due) / cfg->gap_ns + 1);
			st->next_due_ns = due + (uint64_t)n * cfg->gap_ns;
		}
		if (cfg->limit - st->sent < n)
			n = (uint32_t)(cfg->limit - st->sent);
		for (uint32_t i = 0; i < n; i++) {
			uint64_t t = i ? bt_bench_now_ns() : now;

			stamp_frame(bufs + (size_t)i * len, cfg, st->sent + i, t);
			if (st->sent + i == 0)
				st->first_ns = t;
			else if (t - st->last_ns <= cfg->pause_ns)
				st->busy_ns += t - st->last_ns;
			st->last_ns = t;
		}
		rc = send(ctx, bufs, len, n);
		if (rc)
			break;
		st->sent += n;
	}
	free(bufs);
	return rc;
}

static int packet_send(void *ctx, uint8_t *bufs, uint32_t len, uint32_t n)
{
	int fd = *(int *)ctx;
	struct mmsghdr msgs[BT_BENCH_SEND_BATCH_MAX];
	struct iovec iov[BT_BENCH_SEND_BATCH_MAX];
	uint32_t done = 0;

	memset(msgs, 0, sizeof(msgs[0]) * n);
	for (uint32_t i = 0; i < n; i++) {
		iov[i].iov_base = bufs + (size_t)i * len;
		iov[i].iov_len = len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (done < n) {
		int sent = sendmmsg(fd, msgs + done, n - done, 0);

		if (sent < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		done += (uint32_t)sent;
	}
	return 0;
}

int bt_bench_packet_run(int fd, const void *frame, uint32_t len, struct bt_bench_gen *gen,
			uint64_t until_ns, uint32_t batch)
{
	return bench_run(gen, frame, len, until_ns, batch, packet_send, &fd);
}

/* A tx ring that makes no progress for this long belongs to a port that takes nothing
 * (down, or gone): give up rather than spin for ever. */
#define BT_BENCH_XSK_STALL_NS 1000000000ull

static int xsk_send(void *ctx, uint8_t *bufs, uint32_t len, uint32_t n)
{
	struct bt_xsk *xsk = ctx;
	uint64_t stalled_since = 0;
	uint32_t last_unsent = 0;

	for (uint32_t i = 0; i < n; i++) {
		int rc;

		/* Every tx frame in flight: push them out and reap completions until one is free. */
		while ((rc = bt_xsk_tx_copy(xsk, bufs + (size_t)i * len, len, 0, 0)) == -ENOBUFS) {
			uint64_t now = bt_bench_now_ns();

			bt_xsk_tx_flush(xsk);
			if (!stalled_since)
				stalled_since = now;
			else if (now - stalled_since > BT_BENCH_XSK_STALL_NS)
				return -ETIMEDOUT;
		}
		if (rc)
			return rc;
		stalled_since = 0;
	}
	/* Copy mode transmits in sendto, 32 frames a call: kick until the kernel has taken
	 * every frame, so that they leave now, not with the next batch or trial. */
	bt_xsk_tx_flush(xsk);
	for (uint32_t unsent; (unsent = bt_xsk_tx_unsent(xsk)) > 0;) {
		uint64_t now = bt_bench_now_ns();

		if (!stalled_since || unsent != last_unsent) {
			stalled_since = now;
			last_unsent = unsent;
		} else if (now - stalled_since > BT_BENCH_XSK_STALL_NS) {
			return -ETIMEDOUT;
		}
		bt_xsk_tx_flush(xsk);
	}
	return 0;
}

int bt_bench_xsk_run(struct bt_xsk *xsk, const void *frame, uint32_t len, struct bt_bench_gen *gen,
		     uint64_t until_ns, uint32_t batch)
{
	if (len + 4 > BT_XSK_FRAME_SIZE)
		return -EMSGSIZE;
	return bench_run(gen, frame, len, until_ns, batch, xsk_send, xsk);
}

int bt_bench_pin(int tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set) ? -errno : 0;
}

int bt_bench_realtime(int tid, int priority)
{
	struct sched_param param = { .sched_priority = priority };

	return sched_setscheduler(tid, SCHED_FIFO, &param) ? -errno : 0;
}
