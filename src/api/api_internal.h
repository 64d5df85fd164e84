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
#include "net/udp.h"
#include "quicc.h"
#include "tls/tls.h"

#include <pthread.h>

struct quicc_ctx {
    int refs;
    enum quicc_method method;
    int verify_mode;
    bool use_default_paths;
    char *ca_file;
    char *keylog_file;
    pthread_mutex_t lock;
};

enum qc_obj_kind { QC_OBJ_CONN = 1, QC_OBJ_STREAM = 2 };

typedef struct qc_api_conn {
    quicc_ctx *ctx;
    pthread_mutex_t lock;
    qc_conn *engine;
    qc_tls_ctx *tls_ctx;
    /* Network */
    int fd;
    bool own_fd;
    unsigned udp_features;
    qc_addr peer;
    bool has_peer;
    qc_udp_batch tx;
    qc_udp_rx rx;
    bool tx_blocked; /* the socket refused the last batch: wait for POLLOUT */
    int net_error;   /* errno of a fatal socket error, or 0 */
    /* Configuration set before connecting */
    char *sni;
    char *verify_host;
    unsigned char alpn[256];
    size_t alpn_len;
    uint64_t idle_timeout_ms;
    uint32_t default_stream_mode;
    int incoming_policy;
    uint64_t incoming_aec;
    bool detached_ever;
    bool explicit_events; /* EXPLICIT event handling: nonblocking calls do no network work */
    /* State */
    bool started, connected, failed;
    long verify_result;
    char verify_text[128];
    uint64_t default_sid; /* UINT64_MAX: none */
    int nstream_objs;     /* live stream objects */
    /* Thread-assisted mode */
    bool thread_assisted;
    pthread_t thread;
    bool thread_running, thread_stop;
} qc_api_conn;

struct quicc {
    enum qc_obj_kind kind;
    quicc *conn_obj; /* the connection object (itself for a connection) */
    qc_api_conn *c;  /* shared connection state */
    uint64_t sid;    /* stream: its ID */
    bool blocking;
    int last_error;     /* QUICC_ERROR_* of the last failing call */
    bool write_pending; /* nonblocking write retry bookkeeping */
    const void *pending_buf;
    size_t pending_len;
};

/* err.c: the per-thread error queue. */
void qc_api_err_push(unsigned long reason, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Monotonic clock in ns. */
qc_ts qc_api_now(void);

#endif
