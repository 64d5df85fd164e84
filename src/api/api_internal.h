/*
 * api_internal.h: the objects behind the public quicc API (include/quicc.h).
 *
 * A `quicc` object is a connection or a stream. The connection object owns
 * a qc_api_conn: the engine (core/conn.h), the TLS handshake, the UDP
 * socket and its batch buffers, and a mutex that every call on the
 * connection or any of its streams takes, so that different threads may
 * use different streams of one connection. A stream object refers to its
 * connection object and a QUIC stream ID.
 */
#ifndef QC_API_INTERNAL_H
#define QC_API_INTERNAL_H

#include "core/conn.h"
#include "core/ecn.h"
#include "core/endpoint.h"
#include "net/transport.h"
#include "net/udp.h"
#include "quicc.h"
#include "tls/tls.h"

#include <pthread.h>

struct quicc_ctx {
    int refs;
    enum quicc_method method;
    int verify_mode;
    bool use_default_paths;
    char *ca_file, *ca_dir;
    char *keylog_file;
    unsigned suites; /* TLS 1.3 cipher suites, a mask of (1u << enum qc_suite); 0: all */
    /* Client: the TLS context every connection shares (trust store, key log, suites), built
     * on the first connect and dropped when one of those settings changes (lock held). */
    qc_tls_ctx *client_tls;
    quicc_new_session_cb new_session_cb; /* client: told of each new session ticket */
    quicc_verify_cb verify_cb;           /* the application's say on certificates */
    void *verify_arg;
    void *new_session_arg;
    char *cert_file, *key_file; /* server */
    unsigned char alpn[256];    /* server preference list, wire format */
    size_t alpn_len;
    uint32_t max_early_data; /* server: 0-RTT accepted when not 0 */
    char *qlog_dir;          /* a qlog file per connection goes there (NULL: none) */
    /* QUIC versions (quicc_ctx_set_quic_versions; n == 0: the role's default) */
    qc_version_list versions;
    /* Client: NEW_TOKEN tokens from servers, by server address (most recent first), each
     * good for connections of the QUIC version it came in only (RFC 9369 §5) */
    struct {
        qc_addr peer;
        uint8_t token[96];
        size_t len;
        uint32_t version;
    } tokens[8];
    size_t ntokens;
    /* Client session cache (QUICC_SESS_CACHE_CLIENT): the latest session per server name and
     * address, offered by the next connection to the same server; most recent first. */
    long sess_cache_mode;
    struct {
        char name[256];
        qc_addr peer;
        uint8_t *data;
        size_t len;
    } sessions[8];
    size_t nsessions;
    pthread_mutex_t lock;
};

enum qc_obj_kind { QC_OBJ_CONN = 1, QC_OBJ_STREAM = 2, QC_OBJ_LISTENER = 3 };

struct qc_api_conn;
struct qc_api_port;

/*
 * What a port's owner (a client connection, or a listener) does in its event loop
 * (port.c). route hands a received datagram to its connection (feeding it to the engine)
 * and returns that connection, or answers it statelessly and returns NULL. run is called
 * for every connection that received data, had a timer due or work queued, after its
 * timers fired: it flushes, applies policies, and may free the connection
 * (qc_api_port_remove first).
 */
typedef struct qc_api_port_ops {
    struct qc_api_conn *(*route)(struct qc_api_port *p, qc_udp_dgram *d, qc_ts now);
    void (*run)(struct qc_api_port *p, struct qc_api_conn *c, qc_ts now);
    /* The socket reported an ICMP error (ECONNREFUSED, EHOSTUNREACH, ENETUNREACH): NULL to
     * ignore it (the handshake or idle timer decides). */
    void (*unreachable)(struct qc_api_port *p, int err);
} qc_api_port_ops;

/*
 * A port: one UDP socket and what sending and receiving on it needs. A
 * client connection has a port of its own; a listener's port is shared by
 * all the connections accepted on it, and routes datagrams to them through
 * the endpoint (core/endpoint.h). The port's mutex is the lock of every
 * object using the port.
 */
typedef struct qc_api_port {
    pthread_mutex_t lock;
    /* Threads blocked on the port: one polls the socket, the others wait on progress, which
     * every turn of the event loop announces (gen++ and a broadcast). */
    pthread_cond_t progress;
    uint64_t gen;
    bool polling;
    int refs; /* objects using the port */
    int fd;   /* the socket, or the transport's wake descriptor */
    bool own_fd;
    bool has_transport; /* datagrams go through transport, not a socket */
    quicc_transport transport;
    unsigned udp_features;
    qc_udp_batch tx;
    qc_udp_rx rx;
    bool connected;   /* the socket is connected: send without an address */
    qc_addr tx_dst;   /* destination of the datagrams in tx */
    bool tx_blocked;  /* the socket refused the last batch: wait for POLLOUT */
    int net_error;    /* errno of a fatal socket error, or 0 */
    qc_ts last_event; /* the latest time the port's engines saw (see qc_api_rx_time) */
    /* The event loop (port.c): every connection on the port, a min-heap of them by their
     * next timer (those with none are not in it), and the connections with work queued. */
    const qc_api_port_ops *ops;
    struct qc_api_conn *conns;
    struct qc_api_conn **heap;
    size_t heap_len, heap_cap;
    struct qc_api_conn *pend_head, *pend_tail; /* server: handshakes in progress, oldest first */
    struct qc_api_conn *ready_head, *ready_tail;
    uint64_t turns, runs; /* statistics: loop turns, connection runs */
    /* Server ports */
    bool is_server;
    qc_endpoint ep;
    bool ep_ready;
    qc_tls_ctx *tls_ctx;
    struct qc_api_conn **accept_q;
    size_t accept_len, accept_cap;
    struct quicc *listener; /* the listener object */
    bool listening;
} qc_api_port;

typedef struct qc_api_conn {
    quicc_ctx *ctx;
    qc_api_port *port;
    pthread_mutex_t *lock; /* &port->lock */
    qc_conn *engine;
    qc_tls_ctx *tls_ctx;
    qc_addr peer;
    bool has_peer;
    /* Configuration set before connecting */
    char *sni;
    char **hosts; /* names the certificate is checked against (set1_host/add1_host) */
    size_t nhosts;
    unsigned char alpn[256];
    size_t alpn_len;
    uint64_t idle_timeout_ms;
    uint8_t *session; /* a session to resume (quicc_set_session) */
    size_t session_len;
    uint32_t default_stream_mode;
    int incoming_policy;
    uint64_t incoming_aec;
    bool detached_ever;
    bool explicit_events; /* EXPLICIT event handling: nonblocking calls do no network work */
    /* State */
    bool started, connected, failed;
    bool vn_restarted;        /* client: started again after a Version Negotiation (once only) */
    struct qc_api_qlog *qlog; /* the connection's qlog file (qlog_api.c), or NULL */
    bool early_mode;          /* client: quicc_write_early_data was called: streams go in 0-RTT */
    long verify_result;
    uint64_t handshake_rtt_us; /* the RTT when the handshake completed */
    char verify_text[128];
    uint64_t default_sid;   /* UINT64_MAX: none */
    bool default_created;   /* a default stream existed once: none is created again */
    bool default_inhibited; /* quicc_new_stream came before any default stream: none ever */
    int nstream_objs;       /* live stream objects */
    bool obj_freed;         /* the application freed the connection object while streams of
                               it lived: the last stream's quicc_free frees it (rule 4) */
    /* On the port (port.c): its list, its place in the timer heap (SIZE_MAX: none) and the
     * time it is keyed by, and the ready list. */
    struct qc_api_conn *port_next, *port_prev;
    bool on_port;
    size_t heap_idx;
    qc_ts timer_at;
    struct qc_api_conn *ready_next, *ready_prev;
    bool ready;
    /* Server connections */
    struct quicc *obj; /* the connection object */
    qc_ep_binding binding;
    uint8_t addr_key[17]; /* the client's address as the endpoint counts it (no port) */
    size_t addr_key_len;
    struct qc_api_conn *pend_next, *pend_prev; /* port->pend_head list, while pending */
    bool on_pend;
    bool pending;  /* counted as a pending handshake by the endpoint */
    bool queued;   /* in the listener's accept queue */
    bool accepted; /* handed to the application */
    bool released; /* the application freed its object */
    /* Thread-assisted mode */
    bool thread_assisted;
    pthread_t thread;
    bool thread_running, thread_stop;
} qc_api_conn;

/* What an object does when the application frees it: quicc_free() calls ops->free, set by
 * the file that made the object (stream_api.c, conn_api.c, listener_api.c). */
typedef struct qc_api_obj_ops {
    void (*free)(struct quicc *s);
} qc_api_obj_ops;

struct quicc {
    const qc_api_obj_ops *ops;
    enum qc_obj_kind kind;
    quicc *conn_obj; /* the connection object (itself for a connection) */
    qc_api_conn *c;  /* shared connection state */
    uint64_t sid;    /* stream: its ID */
    bool blocking;
    uint64_t mode;           /* QUICC_MODE_* */
    int last_error;          /* QUICC_ERROR_* of the last failing call */
    bool write_pending;      /* a nonblocking write returned WANT_WRITE part-way: */
    const void *pending_buf; /* its buffer, */
    size_t pending_len;      /* length, */
    size_t pending_done;     /* and the bytes already queued */
};

/* conn_api.c: the client TLS context of ctx, built on first use; a new reference, or NULL with
 * a reason in err. */
qc_tls_ctx *qc_api_ctx_client_tls(quicc_ctx *ctx, char *err, size_t err_len);

/* err.c: the per-thread error queue. */
void qc_api_err_push(unsigned long reason, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* port.c: the monotonic clock in ns, and the engines' random bytes (getrandom). */
qc_ts qc_api_now(void);
void qc_api_rand(void *user, uint8_t *buf, size_t len);

/*
 * port.c: ports and their event loop. Every function but new and unref is called with
 * the port's lock held.
 */
qc_api_port *qc_api_port_new(void);
void qc_api_port_unref(qc_api_port *p); /* lock not held */
int qc_api_port_buffers(qc_api_port *p, size_t seg_cap);
/* Puts a connection with an engine on the port / takes it off (timer heap, ready list). */
int qc_api_port_add(qc_api_port *p, qc_api_conn *c);
void qc_api_port_remove(qc_api_port *p, qc_api_conn *c);
/* The application changed c's engine: run it on the next turn. */
void qc_api_touch(qc_api_conn *c);
/* One turn: timers due, a batch of datagrams routed, every connection with work run. */
void qc_api_port_turn(qc_api_port *p);
/* A datagram given by the application (quicc_inject_net_dgram), routed like one received. */
void qc_api_port_inject(qc_api_port *p, uint8_t *data, size_t len, const qc_addr *peer);
/* Sends what c's engine has, in batches to its peer, and re-keys its timer. */
void qc_api_conn_flush(qc_api_conn *c, qc_ts now);
/* A datagram that belongs to no connection. */
void qc_api_port_reply(qc_api_port *p, const uint8_t *data, size_t len, const qc_addr *peer);
/* The earliest time the port needs a turn (0: now; QC_TS_NONE: only on network input). */
qc_ts qc_api_port_next_timeout(qc_api_port *p);
/* Waits for the socket or the port's next timer, at most until deadline, then turns. The
 * lock is released while waiting; threads blocked on one port share one poll(). Returns
 * 0, or -1 when the socket failed. */
int qc_api_port_wait(qc_api_port *p, qc_ts deadline);
/* When a datagram arrived: now minus the time it waited in the socket, but never before
 * p->last_event (the latest time the port's engines saw), which it then becomes. */
qc_ts qc_api_rx_time(qc_api_port *p, qc_ts now, const qc_udp_dgram *d);
/*
 * Lock held. Evaluates done(s, arg) until it returns true, running the event loop in
 * between: a blocking object waits for the network or a timer (until deadline, QC_TS_NONE:
 * none), a nonblocking one runs one turn first unless it is in explicit event-handling
 * mode. Returns true when done held, false when the call would block, the deadline passed
 * or the socket failed. Flags: NO_BLOCK treats a blocking object as nonblocking; TURN runs
 * the nonblocking turn even in explicit mode (the handshake and shutdown need it). Before
 * quicc_connect returns in 0-RTT mode, the nonblocking turn only sends (without TURN).
 */
#define QC_API_WAIT_NO_BLOCK 1u
#define QC_API_WAIT_TURN 2u
bool qc_api_block_until(struct quicc *s, unsigned flags, bool (*done)(struct quicc *s, void *arg),
                        void *arg, qc_ts deadline);

/* tls_api.c: a ticket arrived on client connection user (qc_tls ticket callback). */
void qc_api_on_ticket(void *user);
/* qlog files (qlog_api.c): opened, when the context names a directory, as the engine of a
 * connection is made (it sets cfg's sink); closed with the engine. */
typedef struct qc_api_qlog qc_api_qlog;
void qc_api_qlog_open(qc_api_conn *c, qc_conn_config *cfg, const qc_cid *odcid, bool server,
                      qc_ts now);
void qc_api_qlog_close(qc_api_conn *c);
/* quicc's session bytes: "QCS1", the QUIC version (4 bytes) and the server parameters the
 * session lets 0-RTT rely on (2-byte length, then the encoding) ahead of the TLS session.
 * qc_api_session_make allocates them for the connection's latest ticket (NULL when none);
 * qc_api_session_parse splits them (bytes without the header are a bare TLS session). */
uint8_t *qc_api_session_make(qc_api_conn *c, size_t *len);
typedef struct qc_api_session_view {
    uint32_t version; /* 0: unknown */
    const uint8_t *tp, *tls;
    size_t tp_len, tls_len;
} qc_api_session_view;
bool qc_api_session_parse(const uint8_t *data, size_t len, qc_api_session_view *v);
/* The cached session for a connection to name at peer: a malloc'd copy, or NULL. */
uint8_t *qc_api_session_lookup(quicc_ctx *ctx, const char *name, const qc_addr *peer, size_t *len);
/* Drops the context's cached sessions. */
void qc_api_sessions_free(quicc_ctx *ctx);
/* The name a client connection's sessions are filed under (its SNI or first host). */
const char *qc_api_conn_server_name(const qc_api_conn *c);
/* The QUICC_VERIFY_ERR_* code of a qc_tls_verify_error reason. */
long qc_api_verify_code(const char *text);
/* qc_tls's verify callback: hands the verdict to the application's (user: the quicc_ctx). */
int qc_api_verify_trampoline(void *user, int ok, const char *reason, size_t n,
                             const uint8_t *const *der, const size_t *len);

/* conn_api.c: connections (lock held where noted). */
/* Setters that apply only before connecting: false (PASSED_INVALID_ARGUMENT) after. */
bool qc_api_before_connect(struct quicc *s, const char *fn);
/* The handshake of c completed: records what it measured (lock held). */
void qc_api_conn_established(qc_api_conn *c);
/* s is a connection object; else pushes CONN_USE_ONLY (PASSED_INVALID_ARGUMENT for NULL). */
bool qc_api_need_conn(const struct quicc *s, const char *fn);
/* Freeing a connection object: stops its thread, and tells the peer with one
 * CONNECTION_CLOSE unless it is closing already (lock not held). Returns true when the
 * object may go now; false when stream objects of it still live: then the last of them,
 * when freed, frees the connection object (ownership rule 4). */
bool qc_api_conn_close_on_free(qc_api_conn *c);
void qc_api_conn_failure(struct quicc *s);  /* lock held */
int qc_api_connect_locked(struct quicc *s); /* lock held */
/* What every connection does when its port runs it: applies the incoming-stream policy,
 * flushes (lock held). */
void qc_api_conn_run(qc_api_conn *c, qc_ts now);
/* Rejects streams the peer opened if the incoming-stream policy says so (lock held). */
void qc_api_apply_incoming_policy(qc_api_conn *c);

#endif
