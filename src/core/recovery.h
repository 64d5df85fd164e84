/*
 * recovery.h: loss detection and RTT estimation (RFC 9002 §5-6 and
 * Appendix A): sent-packet records per packet number space, ACK
 * processing, time- and packet-threshold loss, PTO with the handshake
 * rules (anti-deadlock, no PTO for the application space before handshake
 * confirmation), key discard and persistent congestion.
 *
 * Sent packets live in one growable ring per space, in packet-number order:
 * no allocation per packet in steady state. Each record lists what the
 * packet carried (qc_sent_frame) so the engine can act when it is
 * acknowledged or lost; recovery calls back for each.
 */
#ifndef QC_RECOVERY_H
#define QC_RECOVERY_H

#include "core/cc.h"
#include "core/common.h"
#include "core/frame.h"

/* What a sent packet carried, to act on at acknowledgement or loss. */
enum qc_sent_kind {
    QC_SK_STREAM = 1,      /* id, offset, len, fin */
    QC_SK_CRYPTO,          /* epoch, offset, len */
    QC_SK_ACK,             /* id = largest acknowledged */
    QC_SK_RESET_STREAM,    /* id */
    QC_SK_STOP_SENDING,    /* id */
    QC_SK_CTL,             /* a connection control frame: id = enum qc_ctl, offset = value */
    QC_SK_MAX_STREAM_DATA, /* id, offset = value */
    QC_SK_STREAM_DATA_BLOCKED,
    QC_SK_NEW_CID,    /* id = sequence number */
    QC_SK_RETIRE_CID, /* id = sequence number */
    QC_SK_PING,
    QC_SK_DATAGRAM,
};

typedef struct qc_sent_frame {
    uint8_t kind;
    uint8_t fin;
    uint8_t epoch;
    uint32_t len;
    uint64_t id;
    uint64_t offset;
} qc_sent_frame;

#define QC_SENT_MAX_FRAMES 8

typedef struct qc_sent_pkt {
    uint64_t pn;
    qc_ts time_sent;
    uint32_t size; /* bytes on the wire, counted in flight if in_flight */
    uint8_t ack_eliciting;
    uint8_t in_flight;
    uint8_t ecn_marked; /* sent ECT(0) */
    uint8_t zero_rtt;   /* a 0-RTT packet */
    uint8_t state;      /* internal: in flight, acked, lost */
    uint8_t nframes;
    qc_sent_frame frames[QC_SENT_MAX_FRAMES];
} qc_sent_pkt;

typedef struct qc_rtt {
    qc_ts latest, smoothed, rttvar, min;
    qc_ts first_sample_time; /* QC_TS_NONE until the first sample */
} qc_rtt;

/*
 * Engine callbacks: a packet's frames were acknowledged / lost. Within one
 * call to qc_recovery_on_ack or qc_recovery_on_timeout, every on_acked call
 * (in packet number order) comes before every on_lost call (also in order);
 * each packet is reported at most once, and never after its space is
 * discarded. p is only valid during the call. Callbacks may send (call
 * qc_recovery_next / qc_recovery_on_sent) but must not process ACKs, timeouts
 * or discard spaces.
 */
typedef struct qc_recovery_cbs {
    void *user;
    void (*on_acked)(void *user, enum qc_pn_space space, const qc_sent_pkt *p);
    void (*on_lost)(void *user, enum qc_pn_space space, const qc_sent_pkt *p);
} qc_recovery_cbs;

typedef struct qc_sent_ring {
    qc_sent_pkt *pkts; /* ring of cap (power of two) records */
    size_t cap, head, count;
} qc_sent_ring;

typedef struct qc_recovery {
    qc_rtt rtt;
    qc_cc cc;
    qc_recovery_cbs cbs;
    qc_sent_ring sent[QC_PNS_COUNT];
    uint64_t largest_acked[QC_PNS_COUNT];   /* UINT64_MAX: none */
    qc_ts last_ack_eliciting[QC_PNS_COUNT]; /* time the last ack-eliciting packet was sent */
    qc_ts loss_time[QC_PNS_COUNT];
    uint64_t ack_eliciting_in_flight[QC_PNS_COUNT];
    bool discarded[QC_PNS_COUNT];
    unsigned pto_count;
    qc_ts max_ack_delay; /* peer's, ns (25 ms until the transport parameters say otherwise) */
    qc_ts initial_rtt;
    bool is_server;
    /* Internal state. */
    uint64_t largest_sent[QC_PNS_COUNT]; /* UINT64_MAX: none; ACKs above it are errors */
    uint64_t ecn_ce[QC_PNS_COUNT];       /* largest ECN-CE count the peer reported */
    bool handshake_acked;                /* a Handshake ACK arrived: the peer validated us */
    uint64_t skipped[4];                 /* 1-RTT packet numbers left out on purpose */
    size_t nskipped;
    qc_ts timer_base; /* last send/ACK/timeout: where an anti-deadlock PTO counts from */
} qc_recovery;

void qc_recovery_init(qc_recovery *r, const qc_recovery_cbs *cbs, bool is_server,
                      size_t max_datagram, qc_ts initial_rtt);
void qc_recovery_free(qc_recovery *r);

/*
 * Reserves the record for the next packet sent in space, to be filled
 * (pn, size, ack_eliciting, in_flight, nframes, frames) and then committed
 * with qc_recovery_on_sent; until then, calling it again returns the same
 * record. Packet numbers must increase within a space. Returns NULL on
 * allocation failure.
 */
qc_sent_pkt *qc_recovery_next(qc_recovery *r, enum qc_pn_space space);
/* Commits the record returned by qc_recovery_next (sets time_sent = now). */
void qc_recovery_on_sent(qc_recovery *r, enum qc_pn_space space, qc_sent_pkt *p, qc_ts now);

/* 0-RTT was rejected (RFC 9001 §4.6.2): every 0-RTT packet still in flight is lost, its
 * frames reported through on_lost (their data goes again in 1-RTT packets). */
void qc_recovery_on_0rtt_rejected(qc_recovery *r, qc_ts now);

/*
 * Processes a decoded ACK frame received in space. ack_delay_ns is the
 * decoded delay (already scaled by the peer's exponent). handshake_confirmed
 * decides whether ack_delay is capped by max_ack_delay (RFC 9002 §5.3).
 * Calls on_acked for each newly acknowledged packet and on_lost for packets
 * this ACK makes lost. Returns 0, or QC_ERR_PROTO if the ACK acknowledges a
 * packet number never sent (above the largest, or one skipped on purpose).
 */
int qc_recovery_on_ack(qc_recovery *r, enum qc_pn_space space, const qc_frame *ack,
                       qc_ts ack_delay_ns, bool handshake_confirmed, qc_ts now);

/*
 * Loss detection timer (RFC 9002 A.8): earliest loss_time, else the PTO
 * deadline. has_handshake_keys / handshake_confirmed / peer_validated
 * implement the client's anti-deadlock rule (peer_validated: the peer has
 * validated our address; servers are always treated as validated, and a
 * received Handshake ACK validates a client). An anti-deadlock PTO counts
 * from the last send, ACK or timeout. QC_TS_NONE if no timer. A server at
 * its anti-amplification limit must not arm the timer (engine's job).
 */
qc_ts qc_recovery_timer(const qc_recovery *r, bool handshake_confirmed, bool peer_validated,
                        bool has_handshake_keys);

/*
 * The loss timer fired. Either declares packets lost (returns 0, *probe_space
 * untouched) or, on PTO, increments pto_count and sets *probe_space to the
 * space in which to send up to two ack-eliciting probes (returns 1). Does
 * nothing and returns 0 if the timer is not due at now.
 */
int qc_recovery_on_timeout(qc_recovery *r, bool handshake_confirmed, bool peer_validated,
                           bool has_handshake_keys, qc_ts now, enum qc_pn_space *probe_space);

/* The engine left 1-RTT packet number pn out on purpose (RFC 9000 §21.4): an ACK that
 * covers it is an optimistic ACK, answered with QC_ERR_PROTO. The last four are kept. */
void qc_recovery_on_skipped(qc_recovery *r, uint64_t pn);
/* The oldest ack-eliciting packet of space still waiting for its acknowledgement (NULL:
 * none): what a PTO probe sends again (RFC 9002 §6.2.4). */
const qc_sent_pkt *qc_recovery_oldest_unacked(const qc_recovery *r, enum qc_pn_space space);
/* Discards a space's keys (RFC 9002 §6.4): drops its records without callbacks. */
void qc_recovery_discard_space(qc_recovery *r, enum qc_pn_space space);

/* Drops a space's records like discard_space but keeps the space in use (client after a
 * Retry: everything sent in Initial packets is sent again with new keys). */
void qc_recovery_reset_space(qc_recovery *r, enum qc_pn_space space);

/* PTO period without backoff (max_ack_delay included): for the idle timeout's floor. */
qc_ts qc_recovery_pto_base(const qc_recovery *r);
/* A new path (RFC 9000 §9.4): the congestion window and the RTT estimate start again (the
 * bytes in flight stay counted). */
void qc_recovery_reset_path(qc_recovery *r);

/* Current PTO period (RFC 9002 §6.2.1) including backoff. */
qc_ts qc_recovery_pto(const qc_recovery *r, bool include_max_ack_delay);

/* Bytes in flight. */
static inline uint64_t qc_recovery_in_flight(const qc_recovery *r) {
    return r->cc.bytes_in_flight;
}

#endif
