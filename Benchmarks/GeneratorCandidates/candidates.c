// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel paths a userspace bench generator can take, side by side, for
 * generator-candidates.sh: each sends 60-byte UDP frames (64 on the wire) on one
 * interface for a while, stamping a CLOCK_MONOTONIC time and a sequence number into each
 * frame as the bench does, from `threads` threads pinned to CPUs 0, 1, ... Counting is
 * the sink's business (an XDP program on the peer), not the sender's.
 *
 *   candidates IFNAME af-xdp|tx-ring|sendmmsg SECONDS [THREADS]
 *
 * af-xdp:   AF_XDP socket, copy mode, TX only, need_wakeup, one queue per thread; 64
 *           descriptors per round, sendto until the kernel took them.
 * tx-ring:  PACKET_TX_RING (TPACKET_V2) with PACKET_QDISC_BYPASS, 64 frames per send():
 *           what trafgen does.
 * sendmmsg: AF_PACKET, PACKET_QDISC_BYPASS, 32 frames per sendmmsg: the bench's old
 *           fallback.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#define LEN 60
#define BATCH 64

static const char *ifname;
static double seconds;
static unsigned char frame[LEN];
static unsigned long sent[64];

static unsigned long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned long)t.tv_sec * 1000000000ul + (unsigned long)t.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "candidates: %s: %s\n", what, strerror(err));
	exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity", errno);
}

/* Where the bench's stamp sits: after Ethernet, IPv4 and UDP headers. */
static void stamp(unsigned char *f, unsigned long seq)
{
	unsigned long t = now_ns();
	unsigned int s = (unsigned int)seq;

	memcpy(f + 42, &t, 8);
	memcpy(f + 50, &s, 4);
}

static void *run_sendmmsg(void *arg)
{
	int id = (int)(long)arg, one = 1;
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname) };
	unsigned char bufs[32][LEN];
	struct mmsghdr msgs[32];
	struct iovec iov[32];
	unsigned long end, n = 0;

	pin(id);
	if (fd < 0)
		die("socket", errno);
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)))
		die("bind", errno);
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < 32; i++) {
		memcpy(bufs[i], frame, LEN);
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = LEN;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (end = now_ns() + (unsigned long)(seconds * 1e9); now_ns() < end;) {
		int r;

		for (int i = 0; i < 32; i++)
			stamp(bufs[i], n + (unsigned long)i);
		r = sendmmsg(fd, msgs, 32, 0);
		if (r > 0)
			n += (unsigned long)r;
	}
	sent[id] = n;
	close(fd);
	return NULL;
}

static void *run_tx_ring(void *arg)
{
	int id = (int)(long)arg, one = 1, version = TPACKET_V2;
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	struct tpacket_req req = { .tp_block_size = 4096 * 64, .tp_block_nr = 4, .tp_frame_size = 2048 };
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname),
				    .sll_protocol = htons(ETH_P_ALL) };
	unsigned char *ring;
	unsigned long end, n = 0;
	unsigned int idx = 0;

	pin(id);
	if (fd < 0)
		die("socket", errno);
	req.tp_frame_nr = req.tp_block_size / req.tp_frame_size * req.tp_block_nr;
	setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version));
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)))
		die("PACKET_TX_RING", errno);
	ring = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, fd, 0);
	if (ring == MAP_FAILED)
		die("mmap", errno);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)))
		die("bind", errno);
	for (end = now_ns() + (unsigned long)(seconds * 1e9); now_ns() < end;) {
		int queued = 0;

		for (; queued < BATCH; queued++) {
			struct tpacket2_hdr *h = (void *)(ring + (size_t)idx * req.tp_frame_size);
			unsigned char *data = (unsigned char *)h + TPACKET2_HDRLEN - sizeof(struct sockaddr_ll);

			if (h->tp_status != TP_STATUS_AVAILABLE)
				break;
			memcpy(data, frame, LEN);
			stamp(data, n + (unsigned long)queued);
			h->tp_len = LEN;
			__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
			idx = (idx + 1) % req.tp_frame_nr;
		}
		if (send(fd, NULL, 0, 0) < 0 && errno != ENOBUFS && errno != EAGAIN)
			die("send", errno);
		n += (unsigned long)queued;
	}
	sent[id] = n;
	munmap(ring, (size_t)req.tp_block_size * req.tp_block_nr);
	close(fd);
	return NULL;
}

static void *run_af_xdp(void *arg)
{
	int id = (int)(long)arg, fd, err;
	unsigned int frames = 4096, size = 2048, next = 0;
	size_t area_size = (size_t)frames * size;
	void *area = mmap(NULL, area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	struct xsk_umem_config ucfg = { .fill_size = 2048, .comp_size = 4096, .frame_size = size };
	struct xsk_socket_config scfg = { .tx_size = 4096, .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
					  .bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP };
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	unsigned long end, n = 0, outstanding = 0;

	pin(id);
	if (area == MAP_FAILED)
		die("mmap", errno);
	err = xsk_umem__create(&umem, area, area_size, &fill, &comp, &ucfg);
	if (err)
		die("xsk_umem__create", -err);
	err = xsk_socket__create(&xsk, ifname, (unsigned int)id, umem, NULL, &tx, &scfg);
	if (err)
		die("xsk_socket__create", -err);
	fd = xsk_socket__fd(xsk);
	for (unsigned int i = 0; i < frames; i++)
		memcpy((char *)area + (size_t)i * size, frame, LEN);
	for (end = now_ns() + (unsigned long)(seconds * 1e9); now_ns() < end;) {
		unsigned int cidx, tidx, want = BATCH, done = xsk_ring_cons__peek(&comp, frames, &cidx);

		if (done) {
			xsk_ring_cons__release(&comp, done);
			outstanding -= done;
		}
		if (outstanding + want > frames)
			want = frames - (unsigned int)outstanding;
		if (want && xsk_ring_prod__reserve(&tx, want, &tidx) == want) {
			for (unsigned int i = 0; i < want; i++) {
				struct xdp_desc *d = xsk_ring_prod__tx_desc(&tx, tidx + i);

				d->addr = (unsigned long)next * size;
				d->len = LEN;
				d->options = 0;
				stamp((unsigned char *)area + (size_t)next * size, n + i);
				next = (next + 1) % frames;
			}
			xsk_ring_prod__submit(&tx, want);
			outstanding += want;
			n += want;
		}
		sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	}
	/* What is still on the tx ring was never sent. */
	sent[id] = n - (tx.size - xsk_prod_nb_free(&tx, tx.size));
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	munmap(area, area_size);
	return NULL;
}

int main(int argc, char **argv)
{
	static const unsigned char head[] = {
		0x52, 0x54, 0x00, 0xbf, 0x00, 0x01, 0x52, 0x54, 0x00, 0xbe, 0x00, 0x00, 0x08, 0x00, /* Ethernet */
		0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,             /* IPv4 */
		198, 18, 1, 0, 198, 19, 1, 0, 0x04, 0x00, 0xb7, 0xb7, 0x00, 0x1a, 0x00, 0x00,       /* UDP */
	};
	void *(*run)(void *);
	pthread_t threads[64];
	unsigned long total = 0;
	int n;

	if (argc < 4) {
		fprintf(stderr, "usage: candidates IFNAME af-xdp|tx-ring|sendmmsg SECONDS [THREADS]\n");
		return 2;
	}
	ifname = argv[1];
	seconds = atof(argv[3]);
	n = argc > 4 ? atoi(argv[4]) : 1;
	if (!strcmp(argv[2], "af-xdp"))
		run = run_af_xdp;
	else if (!strcmp(argv[2], "tx-ring"))
		run = run_tx_ring;
	else if (!strcmp(argv[2], "sendmmsg"))
		run = run_sendmmsg;
	else
		return 2;
	if (n < 1 || n > 64)
		return 2;
	memcpy(frame, head, sizeof(head));
	for (long i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, run, (void *)i);
	for (int i = 0; i < n; i++) {
		pthread_join(threads[i], NULL);
		total += sent[i];
	}
	printf("%lu\n", total);
	return 0;
}
