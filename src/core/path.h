/*
 * path.h: the network paths of a connection (RFC 9000 §8.2, §9): the peer address each
 * datagram came from, path validation with PATH_CHALLENGE / PATH_RESPONSE, and what a
 * server keeps of the old path while it validates a new one.
 *
 * The engine never sees a socket address: the application describes the peer of each
 * datagram with a qc_path_addr (its IP bytes and port), and reads back where each datagram
 * it sends must go. Everything here is pure: randomness and time come in as arguments.
 */
#ifndef QC_PATH_H
#define QC_PATH_H

#include "core/common.h"

/* A peer address as the engine knows it: IPv4 (4 bytes) or IPv6 (16), and a port. */
typedef struct qc_path_addr {
    uint8_t ip[16];
    uint8_t ip_len; /* 0: not known */
    uint16_t port;
} qc_path_addr;

static inline bool qc_path_addr_eq(const qc_path_addr *a, const qc_path_addr *b) {
    return a->ip_len == b->ip_len && a->port == b->port && memcmp(a->ip, b->ip, a->ip_len) == 0;
}

/* Only the port differs (a NAT rebinding: RFC 9000 §9.4 keeps the congestion state). */
static inline bool qc_path_addr_same_ip(const qc_path_addr *a, const qc_path_addr *b) {
    return a->ip_len == b->ip_len && memcmp(a->ip, b->ip, a->ip_len) == 0;
}

/* Validation of one path: the challenge outstanding and when it gives up. */
enum qc_path_state {
    QC_PATH_NONE = 0,   /* no address */
    QC_PATH_VALIDATING, /* PATH_CHALLENGE sent (or to send), no matching PATH_RESPONSE yet */
    QC_PATH_VALIDATED,  /* a PATH_RESPONSE echoed our challenge, or the handshake proved it */
    QC_PATH_FAILED,     /* no PATH_RESPONSE before the validation timer */
};

typedef struct qc_path_validation {
    enum qc_path_state state;
    uint8_t challenge[8]; /* the data of the latest PATH_CHALLENGE */
    uint8_t previous[8];  /* and of the one before: a late answer to it counts too */
    bool has_previous;
    bool challenge_pending; /* a PATH_CHALLENGE is to be sent */
    qc_ts deadline;         /* validation fails then (QC_TS_NONE when not validating) */
    qc_ts next_challenge;   /* a new PATH_CHALLENGE goes then (each PTO) */
    unsigned challenges;    /* sent so far */
} qc_path_validation;

/* Starts (or restarts) validation: a fresh challenge from rnd, to send now, giving up at
 * now + timeout. */
void qc_path_validation_start(qc_path_validation *v, const uint8_t rnd[8], qc_ts now,
                              qc_ts timeout);
/* A PATH_CHALLENGE went out at now; the next one (a retransmission with new data from rnd,
 * RFC 9000 §8.2.1) goes after pto. */
void qc_path_validation_sent(qc_path_validation *v, qc_ts now, qc_ts pto);
/* A PATH_RESPONSE arrived: true (and validated) if it echoes the challenge outstanding. */
bool qc_path_validation_response(qc_path_validation *v, const uint8_t data[8]);
/* The timers: the validation fails at the deadline; before it, a new challenge is due at
 * next_challenge (rnd gives its data). Returns true when the validation failed now. */
bool qc_path_validation_timeout(qc_path_validation *v, const uint8_t rnd[8], qc_ts now);
/* Validation given up without a verdict: the connection went back to a path it knew. */
void qc_path_validation_abandon(qc_path_validation *v);
/* The earliest of the two timers (QC_TS_NONE when not validating). */
qc_ts qc_path_validation_timer(const qc_path_validation *v);

#endif
