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

int bt_bench_packet_run(int fd, const void *frame, uint32_t len, struct bt_bench_gen *gen,
			uint64_t until_ns, uint32_t batch)
{
	struct bt_bench_gen_config *cfg = &gen->config;
	struct bt_bench_gen_state *st = &gen->state;
	struct mmsghdr msgs[64];
	struct iovec iov[64];
	uint8_t *bufs;
	int rc = 0;

	if (batch < 1 || batch > 64)
		batch = batch < 1 ? 1 : 64;
	if (cfg->gap_ns)
		batch = 1; /* paced: one frame per due time */
	bufs = malloc((size_t)len * batch);
	if (!bufs)
		return -ENOMEM;
	for (uint32_t i = 0; i < batch; i++) {
		memcpy(bufs + (size_t)i * len, frame, len);
		iov[i].iov_base = bufs + (size_t)i * len;
		iov[i].iov_len = len;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (st->sent < cfg->limit) {
		uint64_t now = bt_bench_now_ns();
		uint32_t n = batch, done = 0;

		if (now >= until_ns)
			break;
		if (cfg->gap_ns) {
			if (now < st->next_due_ns) {
				st->idle += 1;
				continue; /* spin: the gap is shorter than a sleep's wake-up */
			}
			st->next_due_ns = (now - st->next_due_ns > cfg->catchup_ns ? now : st->next_due_ns) +
					  cfg->gap_ns;
		}
		if (cfg->limit - st->sent < n)
			n = (uint32_t)(cfg->limit - st->sent);
		for (uint32_t i = 0; i < n; i++)
			stamp_frame(bufs + (size_t)i * len, cfg, st->sent + i, now);
		while (done < n) {
			int sent = sendmmsg(fd, msgs + done, n - done, 0);

			if (sent < 0) {
				if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
					continue;
				rc = -errno;
				goto out;
			}
			done += (uint32_t)sent;
		}
		if (st->sent == 0)
			st->first_ns = now;
		else if (now - st->last_ns <= cfg->pause_ns)
			st->busy_ns += now - st->last_ns;
		st->last_ns = now;
		st->sent += n;
	}
out:
	free(bufs);
	return rc;
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
