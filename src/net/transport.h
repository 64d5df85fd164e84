/*
 * transport.h: datagrams over a transport of the application's own
 * (quicc_transport, the counterpart of an OpenSSL datagram BIO), with the
 * same calls and return conventions as the UDP path in udp.h, and the
 * in-memory datagram pair (quicc_dgram_pair, like BIO_s_dgram_pair).
 */
#ifndef QC_TRANSPORT_H
#define QC_TRANSPORT_H

#include "net/udp.h"
#include "quicc.h"

/* Sends batch datagrams [sent, count) to dst: 0 when all went, -EAGAIN when the transport
 * took fewer (the rest stays), another -errno when it failed (the batch is dropped). */
int qc_transport_send_batch(const quicc_transport *t, const qc_addr *dst, qc_udp_batch *b);
int qc_transport_send_one(const quicc_transport *t, const qc_addr *dst, const uint8_t *data,
                          size_t len);
/* Receives what the transport has (up to a batch): the number of datagrams, 0 when none,
 * or -errno. */
int qc_transport_recv_batch(const quicc_transport *t, qc_udp_rx *rx);

#endif
