/*
 * conn_internal.h: the connection structure, shared by the engine's
 * conn*.c files only (conn.c: lifecycle, timers, close; conn_recv.c: the
 * path of a datagram in; conn_send.c: the path of a datagram out;
 * conn_stream.c: the stream table and stream calls).
 */
#ifndef QC_CONN_INTERNAL_H
#define QC_CONN_INTERNAL_H

#include "core/ack.h"
#include "core/cid.h"
#include "core/conn.h"
#include "core/ecn.h"
#include "core/flowctl.h"
#include "core/frame.h"
#include "core/keys.h"
#include "core/recovery.h"
#include "core/stream.h"

/*
 * Connection-level control frames, each queued by one bit of qc_conn.ctl_pending and
 * described by one row of the table in conn_send.c (how to build it, whether a lost one
 * is sent again). Set bits with qc_conn_ctl_queue.
 */
enum qc_ctl {
    QC_CTL_PATH_CHALLENGE, /* the active path's validation (server, after a move) */
    QC_CTL_PATH_RESPONSE,
    QC_CTL_HANDSHAKE_DONE, /* server */
    QC_CTL_NEW_TOKEN,      /* server */
    QC_CTL_MAX_DATA,
    QC_CTL_MAX_STREAMS_BIDI,
    QC_CTL_MAX_STREAMS_UNI,
    QC_CTL_STREAMS_BLOCKED_BIDI,
    QC_CTL_STREAMS_BLOCKED_UNI,
    QC_CTL_DATA_BLOCKED,
    QC_CTL_COUNT
};

/* A stream as the connection holds it: the stream plus flow control and scheduling links. */
typedef struct qc_cstream {
    qc_stream s;
    qc_fc_recv fc_recv;
    qc_fc_send fc_send;
    struct qc_cstream *hnext;         /* hash chain */
    struct qc_cstream *snext, *sprev; /* send queue (round robin) */
    bool in_send_queue;
    bool released;         /* the application let go of it */
    bool announced;        /* peer-initiated: handed to qc_conn_stream_accept or skipped */
    bool reset_pending;    /* RESET_STREAM to (re)send */
    bool stop_pending;     /* STOP_SENDING to (re)send */
    bool max_data_pending; /* MAX_STREAM_DATA to (re)send */
    bool blocked_pending;  /* STREAM_DATA_BLOCKED to send */
    bool counted_closed;   /* peer stream already credited back to MAX_STREAMS */
    bool waits_credit;     /* opened with ADVANCE beyond the peer's MAX_STREAMS */
} qc_cstream;

/* qlog events (conn_qlog.c); each does nothing without a sink. */
void qc_conn_qlog_sent(qc_conn *c, enum qc_pkt_type t, const qc_sent_pkt *p, qc_ts now);
void qc_conn_qlog_received(qc_conn *c, enum qc_pkt_type t, uint64_t pn, int key_phase, size_t len,
                           const uint8_t *payload, size_t plen, qc_ts now);
void qc_conn_qlog_lost(qc_conn *c, enum qc_pn_space sp, const qc_sent_pkt *p, qc_ts now);
void qc_conn_qlog_metrics(qc_conn *c, qc_ts now);
void qc_conn_qlog_key_updated(qc_conn *c, bool local, qc_ts now);
void qc_conn_qlog_handshake(qc_conn *c, qc_ts now);
void qc_conn_qlog_closed(qc_conn *c, qc_ts now);

/* Per packet-number-space state. */
typedef struct qc_space {
    uint64_t next_pn;
    uint64_t largest_rx; /* UINT64_MAX: none */
    qc_ack_tracker ack;
    qc_stream crypto; /* CRYPTO stream of this space's epoch (send and receive parts) */
    bool discarded;
    uint64_t skip_pn; /* 1-RTT: the next packet number left out (RFC 9000 §21.4) */
} qc_space;

struct qc_conn {
    qc_conn_config cfg;
    bool is_server;
    enum qc_conn_state state;
    uint32_t version; /* of the long headers we send; the key schedule derives with it */
    const qc_crypto_provider *cp;
    /* Compatible version negotiation (RFC 9368, RFC 9369 §4) */
    struct {
        uint32_t original;      /* the version of the client's first Initial */
        bool settled;           /* client: the server's version is known (it sent CRYPTO data) */
        uint32_t retry_version; /* client: a Version Negotiation's choice for a new attempt */
    } vn;

    /* TLS */
    qc_hs hs;
    bool hs_set;
    bool remembered_tp; /* client: peer_tp holds remembered values for 0-RTT (RFC 9000
                           §7.4.1) until the server's own arrive */
    bool handshake_complete, handshake_confirmed;
    bool sent_handshake_pkt; /* client: first Handshake packet sent -> drop Initial keys */

    /* ECN on the path (ecn.h); ecn_newly_marked counts, while an ACK is processed, the
     * ECT(0) packets it newly acknowledges */
    qc_ecn ecn;
    uint64_t ecn_newly_marked;
    qc_ts qlog_now; /* the time of the call in progress, for events raised without one */

    /* Keys of every epoch and the 1-RTT key phases (keys.h) */
    qc_key_schedule keys;
    unsigned close_rx_count; /* packets received while CLOSING (close frame rate limit) */

    /* Connection IDs issued and received (cid.h) */
    qc_cids cids;
    /* The handshake's identities: original IDs, Retry, address-validation tokens */
    struct {
        qc_cid odcid;        /* client: first DCID; server: the DCID the client first used */
        qc_cid initial_dcid; /* server: the DCID of the Initial we created from */
        qc_cid retry_scid;
        bool retried;         /* client: a Retry was accepted */
        bool got_server_scid; /* client: DCID switched to the server's SCID */
        uint8_t *token;       /* client: Retry/NEW_TOKEN token to send in Initials */
        size_t token_len;
        uint8_t new_token[96]; /* client: received in NEW_TOKEN; server: to send */
        size_t new_token_len;
    } ids;

    /* Transport parameters */
    qc_tparams local_tp, peer_tp;
    bool has_peer_tp;

    /* Spaces and recovery */
    qc_space spaces[QC_PNS_COUNT];
    qc_recovery rec;
    unsigned probes_pending[QC_PNS_COUNT];
    unsigned early_resends; /* handshake CRYPTO sent again before the PTO (at most 2) */

    /* Flow control (connection level) */
    qc_fc_recv fc_recv;
    qc_fc_send fc_send;

    /* Streams (conn_stream.c) */
    struct {
        qc_cstream **htab;
        size_t hcap, nstreams;
        qc_cstream *send_head; /* round-robin queue of streams with something to send */
        uint64_t next_local_bidi, next_local_uni;   /* next stream index (not id) */
        uint64_t peer_max_bidi, peer_max_uni;       /* streams we may open (peer MAX_STREAMS) */
        uint64_t local_max_bidi, local_max_uni;     /* streams the peer may open (advertised) */
        uint64_t peer_opened_bidi, peer_opened_uni; /* stream indexes the peer opened so far */
        uint64_t peer_closed_bidi, peer_closed_uni; /* peer streams finished and released */
        uint64_t *incoming; /* ring of peer-initiated streams to accept; bounded by our
                               MAX_STREAMS limits, so it cannot grow without bound */
        size_t incoming_head, incoming_len, incoming_cap;
    } st;
    unsigned acks_only_sent; /* ACK-only packets since the last ack-eliciting one */
    struct {
        bool enabled; /* spinning (RFC 9000 §17.4); when not, value is fixed and random */
        bool value;   /* what our 1-RTT packets carry */
    } spin;
    uint64_t grease_rng; /* RFC 9287: which of our packets leave the QUIC bit clear (0: unset) */

    /* The path */
    struct {
        /* Server, until the client's address is validated: send at most three times what
         * came in (RFC 9000 §8.1). A client is never limited. */
        bool amp_limited;
        uint64_t bytes_recv_unvalidated, bytes_sent_unvalidated;
        size_t max_payload;           /* datagram size we build */
        uint8_t path_responses[4][8]; /* PATH_CHALLENGE data to answer, oldest first */
        unsigned n_path_responses;
        /* Migration (RFC 9000 §9; a server follows its client, path.c validates). */
        qc_path_addr addr;      /* the peer's address (ip_len 0: the application gives none) */
        qc_path_validation val; /* of the active path, after a move */
        struct {                /* the path before the move, to fall back to */
            bool in_use;
            qc_path_addr addr;
            qc_rtt rtt;
            qc_cc cc;
        } old;
        struct { /* a PATH_CHALLENGE from an address that is not the active path's */
            bool pending;
            qc_path_addr addr;
            uint8_t data[8];
            uint64_t bytes_recv; /* for its amplification limit */
        } probe;
        /* The datagram being read: from another address than the active path's, and
         * whether one of its packets was the largest yet and not only probing frames. */
        bool rx_new, rx_pkt_nonprobing, rx_moves;
        qc_path_addr rx_addr;
        uint64_t migrations, validation_failures;
    } path;

    /* Control frames to (re)send: a bit per enum qc_ctl */
    uint32_t ctl_pending;
    bool handshake_done_acked; /* server: the client has our HANDSHAKE_DONE */

    /* Timers other than recovery's and the ACK delay (which live in rec and spaces) */
    struct {
        qc_ts idle_timeout;  /* effective, ns; 0 = none */
        qc_ts last_activity; /* last packet received or first ack-eliciting sent after */
        bool sent_eliciting_since_rx;
        qc_ts close_deadline; /* end of CLOSING/DRAINING */
        qc_ts created;        /* for the handshake timeout */
        qc_ts last_tx;        /* for keep-alive */
        qc_ts last_rx;        /* last packet from the peer that opened (handshake timeout) */
        bool ping_pending;
    } timers;

    /* Closing */
    qc_close_info close;
    bool close_frame_pending; /* send CONNECTION_CLOSE in the next datagram */

    qc_conn_stats stats;
};

/* conn_send.c: control frames (the table) */
static inline void qc_conn_ctl_queue(qc_conn *c, enum qc_ctl k) {
    c->ctl_pending |= 1u << k;
}
/* A packet carrying control frame f was lost: queues it again if its value is still due. */
void qc_conn_ctl_lost(qc_conn *c, const qc_sent_frame *f);

/* conn.c */
void qc_conn_set_state(qc_conn *c, enum qc_conn_state st);
/* Records why the connection ends (callers set the idle / stateless_reset flags after). */
void qc_conn_set_close_info(qc_conn *c, bool local, bool app, uint64_t code, uint64_t frame_type,
                            int lib_error, const void *reason, size_t reason_len);
/* Closes because of a local or peer protocol error (err is a QC_ERR_*). */
void qc_conn_fail(qc_conn *c, int err, uint64_t frame_type, const char *reason, qc_ts now);
/* Closes with an explicit transport error code (e.g. 0x100 + TLS alert). */
void qc_conn_fail_code(qc_conn *c, uint64_t code, int err, uint64_t frame_type, const char *reason,
                       qc_ts now);
void qc_conn_discard_epoch(qc_conn *c, enum qc_epoch ep);
/* Initial keys for a new destination connection ID (after Retry or a VN restart). */
int qc_conn_reinstall_initial_keys(qc_conn *c, const qc_cid *dcid);
void qc_conn_on_handshake_confirmed(qc_conn *c);
qc_ts qc_conn_pto(const qc_conn *c);
/* conn_path.c: the paths (RFC 9000 §9) */
void qc_conn_path_rx_begin(qc_conn *c, const qc_path_addr *from, size_t len);
void qc_conn_path_rx_end(qc_conn *c, size_t len, qc_ts now);
void qc_conn_path_on_challenge(qc_conn *c, const uint8_t data[8]);
void qc_conn_path_queue_response(qc_conn *c, const uint8_t data[8]);
void qc_conn_path_on_response(qc_conn *c, const uint8_t data[8]);
qc_ts qc_conn_path_timer(const qc_conn *c);
void qc_conn_path_on_timeout(qc_conn *c, qc_ts now);
void qc_conn_path_challenge_sent(qc_conn *c, qc_ts now);
/* Queues all of a space's unacknowledged CRYPTO data to be sent again; false when there is
 * none (or the space is discarded). */
bool qc_conn_crypto_resend(qc_conn *c, enum qc_pn_space sp);
/* The handshake is stuck on a lost flight: sends the unacknowledged Initial and Handshake
 * CRYPTO data again without waiting for the PTO (RFC 9002 §6.2.3), twice per connection. */
void qc_conn_resend_crypto_early(qc_conn *c);

/* conn_recv.c */
int qc_conn_recv_frames(qc_conn *c, enum qc_pkt_type pt, const uint8_t *payload, size_t len,
                        bool *ack_eliciting, qc_ts now);

/* conn_stream.c */
qc_cstream *qc_conn_find_stream(const qc_conn *c, uint64_t id);
/* Gets or creates (for peer-initiated IDs, implicitly opening lower ones) the stream for a
 * frame of the given type. *out NULL with 0 when the stream is already closed (ignore frame).
 * Errors: QC_ERR_STREAM_STATE (wrong direction / local not opened), QC_ERR_STREAM_LIMIT. */
int qc_conn_stream_for_frame(qc_conn *c, uint64_t id, bool sending_part, qc_cstream **out);
void qc_conn_stream_schedule(qc_conn *c, qc_cstream *cs);
void qc_conn_stream_unschedule(qc_conn *c, qc_cstream *cs);
bool qc_conn_stream_has_work(const qc_conn *c, const qc_cstream *cs);
/* Frees the stream if finished and released; credits peer stream limits. */
void qc_conn_stream_maybe_free(qc_conn *c, qc_cstream *cs);
void qc_conn_streams_free(qc_conn *c);
void qc_conn_streams_on_peer_tparams(qc_conn *c);

/* conn_send.c */
bool qc_conn_has_pending(const qc_conn *c, qc_ts now);

static inline enum qc_epoch qc_space_epoch(enum qc_pn_space sp) {
    return sp == QC_PNS_INITIAL ? QC_EPOCH_INITIAL
                                : (sp == QC_PNS_HANDSHAKE ? QC_EPOCH_HANDSHAKE : QC_EPOCH_1RTT);
}
static inline enum qc_pn_space qc_epoch_space(enum qc_epoch ep) {
    return ep == QC_EPOCH_INITIAL ? QC_PNS_INITIAL
                                  : (ep == QC_EPOCH_HANDSHAKE ? QC_PNS_HANDSHAKE : QC_PNS_APP);
}

#endif
