/*
 * conn.h: the QUIC connection engine, sans-I/O, for both roles.
 *
 * Datagrams go in with qc_conn_recv(), datagrams come out of qc_conn_send(),
 * time is an argument (ns), qc_conn_next_timeout() says when to call
 * qc_conn_on_timeout(). TLS is reached through a qc_hs (core/hs.h) and
 * cryptography through a qc_crypto_provider (core/crypto.h); randomness
 * through a callback. The engine never blocks, sleeps or allocates per
 * packet in steady state.
 *
 * Streams are addressed by their QUIC stream ID. The application (src/api)
 * reads and writes through qc_conn_stream_*; the engine keeps every
 * stream until both its parts are finished and the application released it.
 */
#ifndef QC_CONN_H
#define QC_CONN_H

#include "core/common.h"
#include "core/path.h"
#include "core/crypto.h"
#include "core/hs.h"
#include "core/packet.h"
#include "core/qlog.h"
#include "core/tparams.h"

typedef struct qc_conn qc_conn;

/* Connection states (one enum, changed in one place: conn_set_state in conn.c). */
enum qc_conn_state {
    QC_CONN_HANDSHAKING = 0, /* Initial/Handshake exchange in progress */
    QC_CONN_ESTABLISHED,     /* handshake complete (confirmed: see qc_conn_is_confirmed) */
    QC_CONN_CLOSING,         /* we sent CONNECTION_CLOSE; waiting 3 PTO */
    QC_CONN_DRAINING,        /* the peer closed (or stateless reset); waiting 3 PTO */
    QC_CONN_CLOSED,          /* terminated: nothing more is sent or received */
};

/* Hooks through which a server endpoint learns and chooses the connection's IDs (all optional). */
typedef struct qc_cid_hooks {
    void *user;
    /* Fills a new connection ID and its stateless reset token; returns 0 or a QC_ERR_*. */
    int (*issue)(void *user, qc_cid *cid, uint8_t token[QC_RESET_TOKEN_LEN]);
    /* The peer retired one of our IDs: it no longer routes to this connection. */
    void (*retire)(void *user, const qc_cid *cid);
    /* The stateless reset token for cid (used for the server's first ID). */
    int (*reset_token)(void *user, const qc_cid *cid, uint8_t token[QC_RESET_TOKEN_LEN]);
} qc_cid_hooks;

typedef struct qc_conn_config {
    bool is_server;
    uint32_t version; /* client: the version of its first Initial (default v1) */
    /* Compatible version negotiation (RFC 9368, core/version.h). Client: the versions its
     * first flight may be converted to, in order of preference (its Available Versions;
     * default v1 only); the server may answer in any of them. Server: the versions it may
     * move a connection to, in order of preference (default v2, v1). */
    qc_version_list versions;
    /* Client: this attempt follows a Version Negotiation packet (incompatible version
     * negotiation, RFC 9368 §2.1; version is the one chosen from it): later ones are
     * ignored, and the server's version information must show no downgrade (§4). */
    bool after_vn;
    bool ecn; /* mark packets ECT(0) and validate the path (RFC 9000 §13.4; default on) */
    bool grease_quic_bit; /* RFC 9287 (default on): advertise grease_quic_bit, accept packets
                             with the QUIC bit clear, and clear it on about half of ours when
                             the peer advertised it too; off: none of the three */
    int spin_bit;         /* the latency spin bit (RFC 9000 §17.4): QC_SPIN_AUTO (default) spins on
                             15 of 16 connections, QC_SPIN_ON always, QC_SPIN_OFF never (a fixed
                             random value instead) */
    qc_qlog_fn qlog;      /* qlog events go here (core/qlog.h); NULL: none are made */
    void *qlog_user;
    const qc_crypto_provider *crypto;
    qc_rand_fn rand;
    void *rand_user;
    size_t scid_len;                  /* length of the connection IDs we issue (default 8) */
    uint64_t idle_timeout_ms;         /* 0 = no idle timeout (default 30000) */
    uint64_t handshake_timeout_ms;    /* the handshake must complete by then (0 = no limit,
                                         the default; a listener's connections have 10 s) */
    uint64_t initial_max_data;        /* connection receive window (default 4 MiB) */
    uint64_t max_data_window;         /* auto-tuning cap (default 32 MiB) */
    uint64_t initial_max_stream_data; /* per-stream receive window (default 1 MiB) */
    uint64_t max_stream_data_window;  /* auto-tuning cap (default 16 MiB) */
    uint64_t max_streams_bidi;        /* concurrent peer-initiated bidi streams (default 100) */
    uint64_t max_streams_uni;         /* concurrent peer-initiated uni streams (default 100) */
    uint64_t stream_send_buffer;      /* per-stream write buffer (default 1 MiB) */
    size_t max_udp_payload;           /* largest datagram we send (default 1452) */
    qc_ts initial_rtt;                /* default 333 ms */
    uint64_t max_ack_delay_ms;        /* default 25 */
    uint64_t ack_delay_exponent;      /* default 3 */
    qc_ts keepalive_interval;         /* send PING after this much silence; 0 = never */
    bool
        keepalive_auto; /* with keepalive_interval 0: PING after half the negotiated idle timeout */
    uint64_t max_crypto_buffer; /* out-of-order CRYPTO bytes accepted (default 64 KiB) */
    /* AEAD usage limits (RFC 9001 §6.6), in packets; 0: the suite's (tests set small ones).
     * Near the confidentiality limit the connection updates its keys by itself; if it
     * cannot, and at the integrity limit, it closes with AEAD_LIMIT_REACHED. */
    uint64_t aead_confidentiality_limit, aead_integrity_limit;
    qc_cid_hooks cid_hooks; /* set by a server endpoint; zero = random IDs */
} qc_conn_config;

enum { QC_SPIN_AUTO = 0, QC_SPIN_ON = 1, QC_SPIN_OFF = 2 };

void qc_conn_config_default(qc_conn_config *cfg, bool is_server);

/*
 * Creates a client connection to a server, with dcid the random initial
 * Destination Connection ID (8..20 bytes) and scid our ID. Initial keys
 * are derived here. Call qc_conn_set_hs() then qc_conn_start().
 */
int qc_conn_new_client(qc_conn **out, const qc_conn_config *cfg, const qc_cid *dcid,
                       const qc_cid *scid, qc_ts now);
/*
 * Creates a server connection for a client's first Initial (hdr): scid is
 * the ID we choose. odcid/retry_scid are set when the Initial carried a
 * valid Retry token (odcid = the client's very first DCID, retry_scid = the
 * SCID of our Retry); NULL otherwise. addr_validated: the token proved the
 * address (no anti-amplification limit).
 */
int qc_conn_new_server(qc_conn **out, const qc_conn_config *cfg, const qc_pkt_hdr *hdr,
                       const qc_cid *scid, const qc_cid *odcid, const qc_cid *retry_scid,
                       bool addr_validated, qc_ts now);
void qc_conn_free(qc_conn *c);

/* The callbacks a TLS implementation must call on this connection. */
void qc_conn_hs_callbacks(qc_conn *c, qc_hs_callbacks *cbs);
/* Hands the TLS implementation to the connection, which frees it (at once if this fails).
 * Encodes and passes the local transport parameters. */
int qc_conn_set_hs(qc_conn *c, qc_hs hs);
const qc_hs *qc_conn_hs(const qc_conn *c);
/* The same, to configure it (TLS callbacks); NULL before qc_conn_set_hs. */
qc_hs *qc_conn_hs_mut(qc_conn *c);
/* True while a key update we started waits for the peer's answer. */
bool qc_conn_key_update_pending(const qc_conn *c);
/* Client: produces the first flight. */
int qc_conn_start(qc_conn *c, qc_ts now);

/*
 * Processes one received datagram (decrypted in place: dgram is modified).
 * Errors inside packets are handled by the engine (drop or close); the
 * return value is 0, or QC_ERR_CLOSED once the connection is closed.
 */
int qc_conn_recv(qc_conn *c, uint8_t *dgram, size_t len, qc_ts now);
/* The same for a datagram that arrived with an ECN codepoint (core/ecn.h: the two low bits
 * of its IP TOS / traffic class); qc_conn_recv is this with QC_ECN_NOT_ECT. */
int qc_conn_recv_ecn(qc_conn *c, uint8_t *dgram, size_t len, unsigned ecn, qc_ts now);
/* The same, with the address the datagram came from (NULL: the usual one). A server moves
 * to a client's new address when RFC 9000 §9 says so (core/conn_path.c); afterwards
 * qc_conn_peer_addr names where qc_conn_send's datagrams go. */
int qc_conn_recv_from(qc_conn *c, uint8_t *dgram, size_t len, unsigned ecn,
                      const qc_path_addr *from, qc_ts now);
/* The peer address of the active path (ip_len 0 when the application never gave one). */
const qc_path_addr *qc_conn_peer_addr(const qc_conn *c);
/* A datagram for another address than the active path's (the PATH_RESPONSE to a challenge
 * that came from there), its destination in *to; 0 when there is none. Call it before
 * qc_conn_send. */
int qc_conn_send_probe(qc_conn *c, uint8_t *buf, size_t cap, qc_path_addr *to, qc_ts now);
/*
 * Writes the next datagram to send into buf (cap bytes, at least 1200).
 * Returns its length, 0 when there is nothing to send now, or a negative
 * QC_ERR_*. Call repeatedly until 0 to drain what is sendable.
 */
int qc_conn_send(qc_conn *c, uint8_t *buf, size_t cap, qc_ts now);
/* When qc_conn_on_timeout must next be called (QC_TS_NONE: no timer). */
qc_ts qc_conn_next_timeout(const qc_conn *c);
/* Handles expired timers (loss detection, PTO, ACK delay, idle, close). */
int qc_conn_on_timeout(qc_conn *c, qc_ts now);

enum qc_conn_state qc_conn_state(const qc_conn *c);
bool qc_conn_is_established(const qc_conn *c);
bool qc_conn_is_confirmed(const qc_conn *c);
bool qc_conn_is_server(const qc_conn *c);
/* True when the engine has something it wants to send now (ignoring pacing). */
bool qc_conn_want_send(const qc_conn *c, qc_ts now);

/* Why the connection closed, once it is CLOSING, DRAINING or CLOSED. */
typedef struct qc_close_info {
    bool set;
    bool local; /* we closed it (error or application) */
    bool app;   /* application close (CONNECTION_CLOSE 0x1d) */
    bool idle;  /* idle timeout */
    bool stateless_reset;
    uint64_t error_code;
    uint64_t frame_type;
    int lib_error; /* the QC_ERR_* behind a local close, or 0 */
    char reason[256];
    size_t reason_len;
} qc_close_info;
const qc_close_info *qc_conn_close_info(const qc_conn *c);

/*
 * Closes the connection: sends CONNECTION_CLOSE (application if app) and
 * enters CLOSING. Idempotent. Returns 0.
 */
int qc_conn_close(qc_conn *c, bool app, uint64_t error_code, const char *reason, qc_ts now);

/* Transport parameters the peer sent (valid once established), NULL before. */
const qc_tparams *qc_conn_peer_tparams(const qc_conn *c);
/* Client: a token (from an earlier connection's NEW_TOKEN) to send in Initial packets; before
 * qc_conn_start. Returns 0 or QC_ERR_NOMEM / QC_ERR_INVAL. */
int qc_conn_set_token(qc_conn *c, const uint8_t *token, size_t len);
/* Client: the latest NEW_TOKEN token the server sent (NULL if none). */
const uint8_t *qc_conn_new_token(const qc_conn *c, size_t *len);
/* Server: sends a NEW_TOKEN frame with this token (copied; at most 96 bytes). */
int qc_conn_send_new_token(qc_conn *c, const uint8_t *token, size_t len);

/* Starts a key update (after confirmation; QC_ERR_AGAIN if one is still in progress). */
int qc_conn_initiate_key_update(qc_conn *c);
/* Number of key updates completed (either side). */
uint64_t qc_conn_key_updates(const qc_conn *c);
/* The QUIC version in use: the negotiated one once known (RFC 9368), before that the
 * client's original version. */
uint32_t qc_conn_version(const qc_conn *c);
/* Client: after a Version Negotiation packet closed the connection, the version to try a
 * new connection in (the first of ours it lists), or 0. */
uint32_t qc_conn_vn_retry_version(const qc_conn *c);
/*
 * 0-RTT (RFC 9000 §7.4.1, RFC 9001 §4.6), client. qc_conn_remembered_tparams encodes the
 * server's transport parameters that 0-RTT may rely on, to keep with the session ticket
 * (after the handshake; returns the length or a QC_ERR_*). qc_conn_set_remembered_tparams,
 * before qc_conn_start, applies them to a connection resuming that session: its 0-RTT
 * packets respect those limits. Rejected 0-RTT data goes again in 1-RTT by itself.
 */
int qc_conn_remembered_tparams(const qc_conn *c, uint8_t *buf, size_t cap);
int qc_conn_set_remembered_tparams(qc_conn *c, const uint8_t *data, size_t len);
/* Client: 0-RTT packets can be sent now (0-RTT keys, no 1-RTT keys yet). */
bool qc_conn_early_possible(const qc_conn *c);
/* The ECN codepoint (core/ecn.h) the datagrams qc_conn_send makes now must carry. */
unsigned qc_conn_ecn_mark(const qc_conn *c);

/* ---- Streams ---- */

/*
 * Opens a local stream. Returns 0 and sets *id, or QC_ERR_STREAM_LIMIT
 * when the peer's MAX_STREAMS does not allow one more (unless advance:
 * then the stream is created and its data waits for credit).
 */
int qc_conn_stream_open(qc_conn *c, bool uni, bool advance, uint64_t *id);
/* Streams the peer may still let us open now (bidi/uni). */
uint64_t qc_conn_streams_avail(const qc_conn *c, bool uni);
/* Streams the peer may still open now (bidi/uni), under our MAX_STREAMS. */
uint64_t qc_conn_peer_streams_avail(const qc_conn *c, bool uni);
/* Pops the next peer-initiated stream not yet announced (returns false if none). */
bool qc_conn_stream_accept(qc_conn *c, uint64_t *id);
size_t qc_conn_stream_accept_queue_len(const qc_conn *c);
/* Peer-initiated streams of one direction waiting to be accepted. */
size_t qc_conn_stream_incoming(const qc_conn *c, bool uni);
/* Does this stream exist (not yet freed)? */
bool qc_conn_stream_exists(const qc_conn *c, uint64_t id);

/* Copies up to len bytes into the stream's send buffer; fin concludes after them.
 * Returns bytes accepted (possibly 0: buffer full or flow blocked), or
 * QC_ERR_STREAM_NOT_FOUND / QC_ERR_STREAM_STATE / QC_ERR_CLOSED. */
int64_t qc_conn_stream_write(qc_conn *c, uint64_t id, const uint8_t *data, size_t len, bool fin);
/* Space in the stream's write buffer. */
size_t qc_conn_stream_write_avail(const qc_conn *c, uint64_t id);
/* Reads up to len bytes; *fin set when the end of the stream was reached.
 * Returns bytes read (0 when none ready) or QC_ERR_STREAM_NOT_FOUND / QC_ERR_STREAM_STATE. */
int64_t qc_conn_stream_read(qc_conn *c, uint64_t id, uint8_t *buf, size_t len, bool *fin);
/* Copies up to len readable bytes without consuming them: bytes copied, or as read's errors. */
int64_t qc_conn_stream_peek(const qc_conn *c, uint64_t id, uint8_t *buf, size_t len);
/* Bytes readable now, and whether the FIN is reachable (all data up to final size present). */
size_t qc_conn_stream_readable(const qc_conn *c, uint64_t id, bool *fin_ready);
int qc_conn_stream_reset(qc_conn *c, uint64_t id, uint64_t app_error);
int qc_conn_stream_stop_sending(qc_conn *c, uint64_t id, uint64_t app_error);
/* The application is done with the stream: it is freed once both parts finish. */
void qc_conn_stream_release(qc_conn *c, uint64_t id);

/* True when every stream's written data (and FIN) has been acknowledged or reset. */
bool qc_conn_send_flushed(const qc_conn *c);

/* Snapshot of a stream for the API layer. */
typedef struct qc_stream_info {
    int send_state; /* enum qc_send_state */
    int recv_state; /* enum qc_recv_state */
    bool reset_recvd, stop_sending_recvd;
    uint64_t reset_code_recvd, stop_code_recvd, reset_code_sent;
    bool reset_sent;
    bool send_concluded;    /* the application concluded the send side (FIN queued or sent) */
    uint64_t send_buffered; /* bytes written but not yet acknowledged */
    uint64_t send_buffer_size;
} qc_stream_info;
int qc_conn_stream_info(const qc_conn *c, uint64_t id, qc_stream_info *info);

/* Statistics. */
typedef struct qc_conn_stats {
    uint64_t pkts_sent, pkts_recv, pkts_lost, pkts_dropped;
    uint64_t bytes_sent, bytes_recv;
    qc_ts srtt, min_rtt;
    uint64_t cwnd;
    int ecn_state;                         /* enum qc_ecn_state: our marks' validation */
    uint64_t ecn_recv[3];                  /* packets received ECT(0), ECT(1), CE (all spaces) */
    uint64_t ecn_marked;                   /* packets we sent ECT(0) */
    uint64_t ecn_peer_ce;                  /* CE marks the peer reported (1-RTT) */
    uint64_t zero_rtt_sent, zero_rtt_recv; /* bytes of 0-RTT packets sent / received */
    uint64_t path_migrations;              /* moves to a new peer address (server) */
    uint64_t path_validation_failures;     /* new paths that did not validate (then: back) */
    int path_state;                        /* enum qc_path_state of the latest new path */
    int early_data;                        /* QC_EARLY_* (core/hs.h): what became of 0-RTT */
} qc_conn_stats;
void qc_conn_get_stats(const qc_conn *c, qc_conn_stats *st);

#endif
