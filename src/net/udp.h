/*
 * udp.h: nonblocking UDP sockets and the batched datagram path.
 *
 * Sending groups consecutive datagrams of equal size into one sendmsg()
 * with UDP_SEGMENT (GSO) where the kernel supports it, else one
 * sendmmsg() per batch. Receiving uses recvmmsg() with UDP_GRO, splitting
 * coalesced segments back into datagrams. No allocation per datagram.
 * Datagrams carry an ECN codepoint both ways (IP_TOS / IPV6_TCLASS, RFC 3168).
 */
#ifndef QC_UDP_H
#define QC_UDP_H

#include "core/path.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct qc_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} qc_addr;

/* A socket address as the engine names a path (IP bytes and port), and back. */
void qc_addr_to_path(const qc_addr *a, qc_path_addr *p);
void qc_addr_from_path(const qc_path_addr *p, qc_addr *a);

/* Opens a nonblocking UDP socket of the family of peer, binds it to local
 * (NULL: any) and, if connect_peer, connects it to peer. Returns fd or -errno. */
int qc_udp_open(const qc_addr *peer, const qc_addr *local, bool connect_peer);
/* The address a connected socket is connected to: 0, or -errno. */
int qc_udp_peer_addr(int fd, qc_addr *peer);
/* Closes a socket quicc opened. */
void qc_udp_close(int fd);
/* Enables GSO/GRO and receive timestamps where available; returns a bitmask of
 * QC_UDP_HAS_*. */
#define QC_UDP_HAS_GSO 1
#define QC_UDP_HAS_GRO 2
#define QC_UDP_HAS_RX_TIME 4
#define QC_UDP_HAS_ECN 8 /* marks can be set on send and are reported on receive */
#define QC_UDP_IS_V6 16  /* an AF_INET6 socket (IPv4 peers appear v4-mapped) */
unsigned qc_udp_features(int fd);

/* A batch of outgoing datagrams stored back to back in buf. */
#define QC_UDP_BATCH 64
typedef struct qc_udp_batch {
    uint8_t *buf; /* QC_UDP_BATCH * seg_cap bytes */
    size_t seg_cap;
    size_t len[QC_UDP_BATCH];
    size_t count;
    size_t sent; /* datagrams of this batch already handed to the kernel */
    uint8_t ecn; /* the ECN codepoint every datagram of the batch carries */
} qc_udp_batch;

/* Sends batch datagrams [sent, count) to peer (NULL on a connected socket).
 * Returns 0 when all went, -EAGAIN when the socket is full (the rest stays
 * for later), or another -errno (the batch is dropped, as UDP may). */
int qc_udp_send_batch(int fd, const qc_addr *peer, qc_udp_batch *b, unsigned features);

/* Sends one datagram to peer (NULL on a connected socket), for replies that belong to no
 * connection (Version Negotiation, Retry, stateless reset). Returns 0 or -errno; a full
 * socket drops it (-EAGAIN), as the network may. */
int qc_udp_send_one(int fd, const qc_addr *peer, const uint8_t *data, size_t len);

/* One received datagram (pointing into the receive buffer). */
typedef struct qc_udp_dgram {
    uint8_t *data;
    size_t len;
    qc_addr peer;
    uint64_t waited_ns; /* time spent queued in the socket (kernel timestamp), or 0 */
    uint8_t ecn;        /* the ECN codepoint it arrived with (0: Not-ECT or unknown) */
} qc_udp_dgram;

#define QC_UDP_RX_MSGS 8
#define QC_UDP_RX_MSG_SIZE 65536

typedef struct qc_udp_rx {
    uint8_t *buf; /* QC_UDP_RX_MSGS * QC_UDP_RX_MSG_SIZE */
    qc_udp_dgram d[QC_UDP_RX_MSGS * 64];
    size_t count;
} qc_udp_rx;

int qc_udp_rx_init(qc_udp_rx *rx);
void qc_udp_rx_free(qc_udp_rx *rx);
/* Receives what is queued (up to a batch). Returns the number of datagrams
 * (0 when none: would block), or -errno. */
int qc_udp_recv_batch(int fd, qc_udp_rx *rx);

#endif
