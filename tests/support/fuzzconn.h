/*
 * fuzzconn.h: a hostile peer for the fuzz targets that attack a live
 * connection (tests/fuzz/fuzz_server_1rtt.c, fuzz_client.c). A simulator
 * runs a real client and a real server; the fuzz input is a script of what
 * the attacker does besides (or instead of) the honest peer:
 *   op % 5 == 0: a packet with the next up-to-1,400 input bytes as frames,
 *                sealed under the honest peer's current keys of the epoch
 *                (op >> 3) % 3 (Initial, Handshake, 1-RTT; the highest one
 *                it has if not that one);
 *   op % 5 == 1: a raw datagram;
 *   op % 5 == 2: the simulated network runs for the next byte's worth of ms;
 *   op % 5 == 3: the victim's application acts (opens streams and writes,
 *                reads what arrived, resets, stops sending, updates keys);
 *   op % 5 == 4: every datagram in flight to the victim is lost.
 * At the end the network runs three more virtual seconds. Checked: nothing
 * crashes or leaks (ASan), the victim never sends more than its congestion
 * and flow limits allow it to buffer (bounded output), and if the victim
 * closed the connection itself, the code is an RFC 9000 §20.1 transport
 * error or a TLS alert.
 */
#ifndef QC_FUZZCONN_H
#define QC_FUZZCONN_H

#include "support/sim.h"

/* Runs one input. attack_server: the server is the victim (after a completed handshake);
 * otherwise the client is, from its first Initial on. */
void fzc_play(sim *s, bool attack_server, const uint8_t *data, size_t size);

#endif
