#pragma once
/*
 * One AF_XDP socket with a UMEM of its own, for bridgetrace switch: libxdp's xsk.h ring
 * operations (static inline, and easy to get wrong from Swift) behind a few calls.
 * Copy mode (veth and tap have no zero-copy), need_wakeup, batches.
 */
#include <stdint.h>

/* Bytes per UMEM frame: a frame, and a tag pushed onto it, must fit one. */
#define BT_XSK_FRAME_SIZE 2048u

struct bt_xsk;

/* A received frame: `data` points into the UMEM and stays valid until bt_xsk_rx_release. */
struct bt_xsk_frame {
	const uint8_t *data;
	uint32_t len;
	uint32_t pad;
	uint64_t meta; /* struct bt_sw_meta: XDP metadata, or the 8 in-band bytes stripped off the frame */
};

/* Socket statistics (getsockopt XDP_STATISTICS), cumulative. */
struct bt_xsk_stats {
	uint64_t rx_dropped;              /* no fill buffer, or a frame too large */
	uint64_t rx_ring_full;            /* the rx ring was full: userspace fell behind */
	uint64_t rx_fill_ring_empty;
	uint64_t tx_invalid;
};

/* Opens a socket on ifname/queue, bound in copy mode with need_wakeup, with `frames`
 * UMEM frames (half for rx, half for tx). Loads no program. meta_inband: the program puts
 * struct bt_sw_meta in the first 8 bytes of the frame rather than in XDP metadata (a kernel
 * without bpf_xdp_adjust_meta); peeks strip them. NULL and *err = -errno. */
struct bt_xsk *bt_xsk_open(const char *ifname, uint32_t queue, uint32_t frames, int meta_inband, int *err);
/* The same, bound for multi-buffer frames (XDP_USE_SG, kernel 6.6) when sg is 1: a frame
 * longer than a UMEM frame comes in several descriptors (peeks put it together) and goes
 * out in several. A kernel without it refuses the bind (-EINVAL): open without then. */
struct bt_xsk *bt_xsk_open_sg(const char *ifname, uint32_t queue, uint32_t frames, int meta_inband, int sg,
			      int *err);
/* 1 when bound for multi-buffer frames. */
int bt_xsk_sg(const struct bt_xsk *xsk);
/* The longest frame the socket receives, as XDP hands it over (in-band bytes included). */
uint32_t bt_xsk_frame_max(const struct bt_xsk *xsk);
int bt_xsk_fd(const struct bt_xsk *xsk);
void bt_xsk_close(struct bt_xsk *xsk);

/* Up to `max` received frames. Release them (all at once) before the next peek. A frame of
 * several descriptors is copied into the socket's own buffer, one such frame per peek. */
uint32_t bt_xsk_rx_peek(struct bt_xsk *xsk, struct bt_xsk_frame *out, uint32_t max);
/* Gives the frames of the last peek back to the kernel (fill ring). */
void bt_xsk_rx_release(struct bt_xsk *xsk);

/* Queues a copy of a frame for transmission, rewriting its 802.1Q tag on the way:
 * op 0 as is, 1 pop the outer tag, 2 push a tag with `vid`. Sent at bt_xsk_tx_flush.
 * A frame longer than a UMEM frame takes several descriptors (multi-buffer sockets only).
 * 0, or -ENOBUFS when no UMEM frame or tx slot is free (XSK_TX_RING_FULL), -EMSGSIZE for a
 * frame the socket cannot send (FRAME_TOO_BIG), -EINVAL for one shorter than a header. */
int bt_xsk_tx_copy(struct bt_xsk *xsk, const uint8_t *frame, uint32_t len, int op, uint16_t vid);
/* Several threads send on this socket (the switch's --cpus): tx calls take a spinlock.
 * bt_xsk_tx_last and bt_xsk_tx_outstanding are then only hints. */
void bt_xsk_set_shared_tx(struct bt_xsk *xsk, int shared);
/* Publishes the queued frames and kicks the kernel until it has taken them all (or a
 * bounded number of tries); reaps completions. */
void bt_xsk_tx_flush(struct bt_xsk *xsk);
/* Frames handed to the kernel and not completed yet. */
uint32_t bt_xsk_tx_outstanding(const struct bt_xsk *xsk);
/* Frames published on the tx ring that the kernel has not taken yet. Copy mode takes
 * them in sendto (32 a call) and completes each when its skb is freed, which may be
 * later, on another CPU: this says whether everything is out without waiting for that. */
uint32_t bt_xsk_tx_unsent(struct bt_xsk *xsk);

int bt_xsk_stats(const struct bt_xsk *xsk, struct bt_xsk_stats *out);

/* The frame the last successful bt_xsk_tx_copy queued, as it goes on the wire (tag
 * rewritten), until bt_xsk_tx_flush; NULL when none is queued. For trace events. */
const uint8_t *bt_xsk_tx_last(struct bt_xsk *xsk, uint32_t *len);
