#include "bt_xsk.h"

#include <errno.h>
#include <linux/if_xdp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#define BT_XSK_FRAME_SIZE 2048u
#define BT_XSK_BATCH_MAX 64u

struct bt_xsk {
	struct xsk_socket *socket;
	struct xsk_umem *umem;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	void *area;
	uint64_t area_size;
	uint32_t frames;
	/* Free tx frames (UMEM addresses), a stack. */
	uint64_t *tx_free;
	uint32_t tx_free_count;
	uint32_t tx_queued;      /* reserved, not yet submitted */
	uint32_t tx_outstanding; /* submitted, not yet completed */
	/* The last rx peek. */
	uint32_t rx_idx;
	uint32_t rx_count;
	uint64_t rx_addrs[BT_XSK_BATCH_MAX];
	int fd;
	int meta_inband;
};

static void bt_xsk_free(struct bt_xsk *x)
{
	if (x->socket)
		xsk_socket__delete(x->socket);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area && x->area != MAP_FAILED)
		munmap(x->area, x->area_size);
	free(x->tx_free);
	free(x);
}

struct bt_xsk *bt_xsk_open(const char *ifname, uint32_t queue, uint32_t frames, int meta_inband, int *err)
{
	struct xsk_umem_config ucfg = {
		.fill_size = frames / 2,
		.comp_size = frames / 2,
		.frame_size = BT_XSK_FRAME_SIZE,
		.frame_headroom = 0,
		.flags = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = frames / 2,
		.tx_size = frames / 2,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	struct bt_xsk *x = calloc(1, sizeof(*x));
	uint32_t idx, i, rx_frames = frames / 2;
	int rc;

	if (!x) {
		*err = -ENOMEM;
		return NULL;
	}
	x->frames = frames;
	x->meta_inband = meta_inband;
	x->area_size = (uint64_t)frames * BT_XSK_FRAME_SIZE;
	x->area = mmap(NULL, x->area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	x->tx_free = calloc(frames - rx_frames, sizeof(uint64_t));
	if (x->area == MAP_FAILED || !x->tx_free) {
		*err = -ENOMEM;
		bt_xsk_free(x);
		return NULL;
	}
	rc = xsk_umem__create(&x->umem, x->area, x->area_size, &x->fill, &x->comp, &ucfg);
	if (rc) {
		x->umem = NULL;
		*err = rc;
		bt_xsk_free(x);
		return NULL;
	}
	rc = xsk_socket__create(&x->socket, ifname, queue, x->umem, &x->rx, &x->tx, &scfg);
	if (rc) {
		x->socket = NULL;
		*err = rc;
		bt_xsk_free(x);
		return NULL;
	}
	x->fd = xsk_socket__fd(x->socket);
	/* The first half of the UMEM is for rx, in the fill ring from the start. */
	if (xsk_ring_prod__reserve(&x->fill, rx_frames, &idx) != rx_frames) {
		*err = -ENOMEM;
		bt_xsk_free(x);
		return NULL;
	}
	for (i = 0; i < rx_frames; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (uint64_t)i * BT_XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&x->fill, rx_frames);
	for (i = rx_frames; i < frames; i++)
		x->tx_free[x->tx_free_count++] = (uint64_t)i * BT_XSK_FRAME_SIZE;
	*err = 0;
	return x;
}

int bt_xsk_fd(const struct bt_xsk *xsk) { return xsk->fd; }

void bt_xsk_close(struct bt_xsk *xsk)
{
	if (xsk)
		bt_xsk_free(xsk);
}

uint32_t bt_xsk_rx_peek(struct bt_xsk *x, struct bt_xsk_frame *out, uint32_t max)
{
	uint32_t n, i;

	if (max > BT_XSK_BATCH_MAX)
		max = BT_XSK_BATCH_MAX;
	n = xsk_ring_cons__peek(&x->rx, max, &x->rx_idx);
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, x->rx_idx + i);
		uint8_t *data = xsk_umem__get_data(x->area, d->addr);

		x->rx_addrs[i] = xsk_umem__extract_addr(d->addr);
		out[i].pad = 0;
		if (x->meta_inband && d->len >= sizeof(uint64_t)) {
			/* The program put its decision in the frame's first 8 bytes (adjust_head). */
			memcpy(&out[i].meta, data, sizeof(uint64_t));
			out[i].data = data + sizeof(uint64_t);
			out[i].len = d->len - (uint32_t)sizeof(uint64_t);
		} else {
			/* The kernel copies XDP metadata in front of the frame (headroom is 256). */
			memcpy(&out[i].meta, data - sizeof(uint64_t), sizeof(uint64_t));
			out[i].data = data;
			out[i].len = d->len;
		}
	}
	x->rx_count = n;
	return n;
}

void bt_xsk_rx_release(struct bt_xsk *x)
{
	uint32_t idx, i, n = x->rx_count;

	if (!n)
		return;
	xsk_ring_cons__release(&x->rx, n);
	/* The fill ring has room for every rx frame, so this cannot come up short. */
	while (xsk_ring_prod__reserve(&x->fill, n, &idx) != n)
		;
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = x->rx_addrs[i];
	xsk_ring_prod__submit(&x->fill, n);
	x->rx_count = 0;
}

static uint32_t bt_xsk_reap(struct bt_xsk *x)
{
	uint32_t idx, i, n = xsk_ring_cons__peek(&x->comp, x->frames, &idx);

	for (i = 0; i < n; i++)
		x->tx_free[x->tx_free_count++] = xsk_umem__extract_addr(*xsk_ring_cons__comp_addr(&x->comp, idx + i));
	if (n)
		xsk_ring_cons__release(&x->comp, n);
	x->tx_outstanding -= n;
	return n;
}

int bt_xsk_tx_copy(struct bt_xsk *x, const uint8_t *frame, uint32_t len, int op, uint16_t vid)
{
	struct xdp_desc *d;
	uint32_t idx, out_len;
	uint8_t *dst;
	uint64_t addr;

	if (len < 14 || len + 4 > BT_XSK_FRAME_SIZE || (op == 1 && len < 18))
		return -EINVAL;
	if (!x->tx_free_count)
		bt_xsk_reap(x);
	if (!x->tx_free_count || xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1)
		return -ENOBUFS;
	addr = x->tx_free[--x->tx_free_count];
	dst = xsk_umem__get_data(x->area, addr);
	if (op == 1) {
		memcpy(dst, frame, 12);
		memcpy(dst + 12, frame + 16, len - 16);
		out_len = len - 4;
	} else if (op == 2) {
		memcpy(dst, frame, 12);
		dst[12] = 0x81;
		dst[13] = 0x00;
		dst[14] = (uint8_t)(vid >> 8);
		dst[15] = (uint8_t)vid;
		memcpy(dst + 16, frame + 12, len - 12);
		out_len = len + 4;
	} else {
		memcpy(dst, frame, len);
		out_len = len;
	}
	d = xsk_ring_prod__tx_desc(&x->tx, idx);
	d->addr = addr;
	d->len = out_len;
	d->options = 0;
	x->tx_queued++;
	return 0;
}

void bt_xsk_tx_flush(struct bt_xsk *x)
{
	if (x->tx_queued) {
		xsk_ring_prod__submit(&x->tx, x->tx_queued);
		x->tx_outstanding += x->tx_queued;
		x->tx_queued = 0;
	}
	/* Copy mode sends from sendto, at most 32 frames a call (the kernel's TX batch), and
	 * completes them before returning: call it until the ring is drained or stalls. */
	for (int round = 0; x->tx_outstanding && round < 128; round++) {
		if (xsk_ring_prod__needs_wakeup(&x->tx))
			sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
		if (!bt_xsk_reap(x))
			break;
	}
}

uint32_t bt_xsk_tx_outstanding(const struct bt_xsk *x) { return x->tx_outstanding + x->tx_queued; }

int bt_xsk_stats(const struct bt_xsk *x, struct bt_xsk_stats *out)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	memset(out, 0, sizeof(*out));
	if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &st, &len))
		return -errno;
	out->rx_dropped = st.rx_dropped;
	out->rx_ring_full = st.rx_ring_full;
	out->rx_fill_ring_empty = st.rx_fill_ring_empty_descs;
	out->tx_invalid = st.tx_invalid_descs;
	return 0;
}

const uint8_t *bt_xsk_tx_last(struct bt_xsk *x, uint32_t *len)
{
	const struct xdp_desc *d;

	if (!x->tx_queued)
		return NULL;
	d = xsk_ring_prod__tx_desc(&x->tx, x->tx.cached_prod - 1);
	*len = d->len;
	return xsk_umem__get_data(x->area, d->addr);
}
