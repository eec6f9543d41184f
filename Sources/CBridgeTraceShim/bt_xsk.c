#include "bt_xsk.h"

#include <errno.h>
#include <pthread.h>
#include <linux/if_xdp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#define BT_XSK_BATCH_MAX 64u

/* Multi-buffer AF_XDP (kernel 6.6): UAPI headers older than that lack the names. */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

/* What one descriptor carries on rx: the UMEM frame less the kernel's XDP headroom. */
#define BT_XSK_RX_ROOM (BT_XSK_FRAME_SIZE - 256u)
/* A frame put together from several descriptors (multi-buffer): room for any the kernel
 * hands over (a jumbo frame, or a GSO skb of generic XDP at most 64 KiB and its tag). */
#define BT_XSK_ASSEMBLY_MAX (65536u + 64u)

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
	uint32_t tx_last;        /* the descriptors of the last frame queued (bt_xsk_tx_last) */
	uint32_t tx_last_pieces;
	/* The last rx peek: descriptors taken (their UMEM addresses go back to the fill ring). */
	uint32_t rx_idx;
	uint32_t rx_count;
	uint64_t rx_addrs[BT_XSK_BATCH_MAX];
	/* Multi-buffer: bound with XDP_USE_SG; one frame of several descriptors per peek is
	 * copied here. */
	int sg;
	uint8_t *assembly;
	int fd;
	int meta_inband;
	/* Several forwarding threads send on this socket: tx operations take the lock. */
	int shared_tx;
	pthread_spinlock_t tx_lock;
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
	free(x->assembly);
	free(x);
}

struct bt_xsk *bt_xsk_open(const char *ifname, uint32_t queue, uint32_t frames, int meta_inband, int *err)
{
	return bt_xsk_open_sg(ifname, queue, frames, meta_inband, 0, err);
}

struct bt_xsk *bt_xsk_open_sg(const char *ifname, uint32_t queue, uint32_t frames, int meta_inband, int sg, int *err)
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
	pthread_spin_init(&x->tx_lock, PTHREAD_PROCESS_PRIVATE);
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
	if (sg) {
		x->assembly = malloc(BT_XSK_ASSEMBLY_MAX);
		if (!x->assembly) {
			*err = -ENOMEM;
			bt_xsk_free(x);
			return NULL;
		}
		scfg.bind_flags |= XDP_USE_SG;
	}
	rc = xsk_socket__create(&x->socket, ifname, queue, x->umem, &x->rx, &x->tx, &scfg);
	if (rc) {
		x->socket = NULL;
		*err = rc;
		bt_xsk_free(x);
		return NULL;
	}
	x->sg = sg;
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

int bt_xsk_sg(const struct bt_xsk *x) { return x->sg; }

uint32_t bt_xsk_frame_max(const struct bt_xsk *x)
{
	/* In-band bytes included: the program checks the frame as it hands it over. */
	return x->sg ? BT_XSK_ASSEMBLY_MAX : BT_XSK_RX_ROOM;
}

/* The frame of one descriptor, or of `count` chained ones copied into x->assembly:
 * `out` gets its data, length and the program's decision. */
static void bt_xsk_rx_frame(struct bt_xsk *x, uint32_t first, uint32_t count, struct bt_xsk_frame *out)
{
	const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, first);
	uint8_t *data = xsk_umem__get_data(x->area, d->addr);
	uint32_t len = d->len;

	if (count > 1) {
		uint32_t i;

		len = 0;
		for (i = 0; i < count; i++) {
			const struct xdp_desc *part = xsk_ring_cons__rx_desc(&x->rx, first + i);

			if (len + part->len > BT_XSK_ASSEMBLY_MAX)
				break; /* cannot happen: the kernel's frames are smaller */
			memcpy(x->assembly + len, xsk_umem__get_data(x->area, part->addr), part->len);
			len += part->len;
		}
		/* XDP metadata (the non-in-band variant) sits in front of the first buffer. */
		if (!x->meta_inband)
			memcpy(&out->meta, data - sizeof(uint64_t), sizeof(uint64_t));
		data = x->assembly;
	} else if (!x->meta_inband) {
		memcpy(&out->meta, data - sizeof(uint64_t), sizeof(uint64_t));
	}
	out->pad = 0;
	if (x->meta_inband && len >= sizeof(uint64_t)) {
		/* The program put its decision in the frame's first 8 bytes (adjust_head). */
		memcpy(&out->meta, data, sizeof(uint64_t));
		out->data = data + sizeof(uint64_t);
		out->len = len - (uint32_t)sizeof(uint64_t);
	} else {
		out->data = data;
		out->len = len;
	}
}

uint32_t bt_xsk_rx_peek(struct bt_xsk *x, struct bt_xsk_frame *out, uint32_t max)
{
	uint32_t n, i = 0, frames = 0, assembled = 0;

	if (max > BT_XSK_BATCH_MAX)
		max = BT_XSK_BATCH_MAX;
	n = xsk_ring_cons__peek(&x->rx, BT_XSK_BATCH_MAX, &x->rx_idx);
	while (i < n && frames < max) {
		uint32_t count = 1;

		/* A multi-buffer frame: descriptors with XDP_PKT_CONTD, then its last one. */
		while (i + count <= n && (xsk_ring_cons__rx_desc(&x->rx, x->rx_idx + i + count - 1)->options & XDP_PKT_CONTD))
			count++;
		if (i + count > n)
			break; /* its last descriptor is not in the ring yet */
		if (count > 1 && assembled)
			break; /* one assembled frame per peek: the next one waits */
		assembled |= count > 1;
		bt_xsk_rx_frame(x, x->rx_idx + i, count, &out[frames++]);
		for (uint32_t k = 0; k < count; k++)
			x->rx_addrs[i + k] = xsk_umem__extract_addr(xsk_ring_cons__rx_desc(&x->rx, x->rx_idx + i + k)->addr);
		i += count;
	}
	if (i < n)
		xsk_ring_cons__cancel(&x->rx, n - i);
	x->rx_count = i;
	return frames;
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

static void bt_xsk_tx_flush_locked(struct bt_xsk *x);

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

/* Writes the frame, with its tag rewritten, into UMEM frames from tx_free: `pieces`
 * descriptors reserved at idx. */
static uint32_t bt_xsk_tx_write(struct bt_xsk *x, uint32_t idx, uint32_t pieces, const uint8_t *frame,
				uint32_t len, int op, uint16_t vid)
{
	uint8_t tag[4] = { 0x81, 0x00, (uint8_t)(vid >> 8), (uint8_t)vid };
	/* The output as up to three spans: the MACs, a new tag (push), the rest. */
	const uint8_t *span[3] = { frame, tag, frame + 12 };
	uint32_t span_len[3] = { 12, 0, len - 12 }, s = 0, s_off = 0, p, total = 0;

	if (op == 1) {
		span[2] = frame + 16;
		span_len[2] = len - 16;
	} else if (op == 2) {
		span_len[1] = 4;
	}
	for (p = 0; p < pieces; p++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx + p);
		uint64_t addr = x->tx_free[--x->tx_free_count];
		uint8_t *dst = xsk_umem__get_data(x->area, addr);
		uint32_t room = BT_XSK_FRAME_SIZE, used = 0;

		while (used < room && s < 3) {
			uint32_t n = span_len[s] - s_off;

			if (n > room - used)
				n = room - used;
			memcpy(dst + used, span[s] + s_off, n);
			used += n;
			s_off += n;
			if (s_off == span_len[s]) {
				s++;
				s_off = 0;
			}
		}
		d->addr = addr;
		d->len = used;
		d->options = p + 1 < pieces ? XDP_PKT_CONTD : 0;
		total += used;
	}
	return total;
}

void bt_xsk_set_shared_tx(struct bt_xsk *x, int shared) { x->shared_tx = shared; }

static void bt_xsk_tx_lock(struct bt_xsk *x)
{
	if (x->shared_tx)
		pthread_spin_lock(&x->tx_lock);
}

static void bt_xsk_tx_unlock(struct bt_xsk *x)
{
	if (x->shared_tx)
		pthread_spin_unlock(&x->tx_lock);
}

static int bt_xsk_tx_copy_locked(struct bt_xsk *x, const uint8_t *frame, uint32_t len, int op, uint16_t vid);

int bt_xsk_tx_copy(struct bt_xsk *x, const uint8_t *frame, uint32_t len, int op, uint16_t vid)
{
	int rc;

	bt_xsk_tx_lock(x);
	rc = bt_xsk_tx_copy_locked(x, frame, len, op, vid);
	bt_xsk_tx_unlock(x);
	return rc;
}

static int bt_xsk_tx_copy_locked(struct bt_xsk *x, const uint8_t *frame, uint32_t len, int op, uint16_t vid)
{
	uint32_t idx, out_len, pieces;

	if (len < 14 || (op == 1 && len < 18))
		return -EINVAL;
	out_len = len + (op == 2 ? 4 : 0) - (op == 1 ? 4 : 0);
	pieces = (out_len + BT_XSK_FRAME_SIZE - 1) / BT_XSK_FRAME_SIZE;
	if (pieces > 1 && (!x->sg || out_len > BT_XSK_ASSEMBLY_MAX))
		return -EMSGSIZE;
	if (x->tx_free_count < pieces)
		bt_xsk_reap(x);
	if (x->tx_free_count < pieces || xsk_ring_prod__reserve(&x->tx, pieces, &idx) != pieces)
		return -ENOBUFS;
	bt_xsk_tx_write(x, idx, pieces, frame, len, op, vid);
	x->tx_queued += pieces;
	x->tx_last = idx;
	x->tx_last_pieces = pieces;
	return 0;
}

void bt_xsk_tx_flush(struct bt_xsk *x)
{
	bt_xsk_tx_lock(x);
	bt_xsk_tx_flush_locked(x);
	bt_xsk_tx_unlock(x);
}

static void bt_xsk_tx_flush_locked(struct bt_xsk *x)
{
	if (x->tx_queued) {
		xsk_ring_prod__submit(&x->tx, x->tx_queued);
		x->tx_outstanding += x->tx_queued;
		x->tx_queued = 0;
	}
	/* Copy mode sends from sendto, at most 32 frames a call (the kernel's TX batch): kick
	 * until the kernel has taken every descriptor. Completions come when each skb is
	 * freed, which may be later and on another CPU, so they are reaped as they come but
	 * are not what the loop waits for (waiting for them left frames in the ring). */
	for (int round = 0; round < 128; round++) {
		bt_xsk_reap(x);
		if (!bt_xsk_tx_unsent(x))
			break;
		if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN && errno != EBUSY &&
		    errno != ENOBUFS)
			break;
	}
}

uint32_t bt_xsk_tx_outstanding(const struct bt_xsk *x) { return x->tx_outstanding + x->tx_queued; }

uint32_t bt_xsk_tx_unsent(struct bt_xsk *x)
{
	/* Free slots as the kernel's consumer index says (refreshed when not all free),
	 * less the slots reserved and not yet published. */
	return x->tx.size - xsk_prod_nb_free(&x->tx, x->tx.size) - x->tx_queued;
}

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

	if (!x->tx_queued || x->tx_last_pieces != 1)
		return NULL; /* a frame of several descriptors: not traced */
	d = xsk_ring_prod__tx_desc(&x->tx, x->tx_last);
	*len = d->len;
	return xsk_umem__get_data(x->area, d->addr);
}
