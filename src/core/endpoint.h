/*
 * endpoint.h: the server side of a UDP port, sans-I/O. For each datagram it
 * decides what to do: route it to the connection owning its Destination
 * Connection ID, accept a new connection (from a valid Initial), or reply
 * statelessly: Version Negotiation for unknown versions, Retry for address
 * validation (always, or when too many handshakes are pending), a stateless
 * reset for short-header packets of unknown connections. It keeps the
 * connection-ID table and the counts that bound memory (connections,
 * pending handshakes). Connections learn their IDs through the hooks from
 * qc_endpoint_bind().
 */
#ifndef QC_ENDPOINT_H
#define QC_ENDPOINT_H

#include "core/conn.h"
#include "core/token.h"

enum qc_retry_mode { QC_RETRY_AUTO = 0, QC_RETRY_ALWAYS = 1, QC_RETRY_NEVER = 2 };

#define QC_EP_ADDR_MAX 32 /* bytes of the address key a caller identifies a client by */

typedef struct qc_endpoint_config {
    const qc_crypto_provider *cp;
    qc_rand_fn rand;
    void *rand_user;
    uint8_t secret[32]; /* tokens and stateless reset tokens derive from it */
    size_t scid_len;    /* length of our connection IDs (default 8) */
    enum qc_retry_mode retry;
    size_t retry_threshold;      /* AUTO: demand Retry when this many handshakes are pending */
    size_t max_pending;          /* handshakes in progress, validated or not; beyond it the oldest
                                    is shed (d->shed_oldest) or an unvalidated client gets a Retry */
    size_t max_pending_per_addr; /* handshakes in progress from one address (default 16) */
    size_t max_conns;            /* connections; Initials beyond are dropped */
    qc_ts retry_token_life;      /* default 10 s */
    qc_ts new_token_life;        /* default 24 h */
    /* Versions a client's first Initial may come in (default v2, v1); others get a Version
     * Negotiation listing these. */
    qc_version_list versions;
    bool grease_quic_bit; /* its connections advertise grease_quic_bit: accept the QUIC bit
                             clear (default on; RFC 9287) */
} qc_endpoint_config;

void qc_endpoint_config_default(qc_endpoint_config *cfg);

typedef struct qc_ep_entry {
    qc_cid cid;
    void *conn;
    struct qc_ep_entry *next;
} qc_ep_entry;

/* Handshakes in progress from one address (as the caller identifies it). */
typedef struct qc_ep_addr_count {
    uint8_t key[QC_EP_ADDR_MAX];
    uint8_t len;
    uint32_t count; /* 0: a free slot */
} qc_ep_addr_count;

typedef struct qc_endpoint {
    qc_endpoint_config cfg;
    qc_token_key tk;
    qc_ep_entry **tab;
    size_t tab_cap, entries;
    size_t conns, pending;
    qc_ep_addr_count *addrs; /* max_pending + 1 slots: never more addresses than handshakes */
    uint64_t shed;           /* handshakes shed to make room */
    uint64_t vn_sent, retry_sent, resets_sent, dropped, bad_tokens;
} qc_endpoint;

int qc_endpoint_init(qc_endpoint *ep, const qc_endpoint_config *cfg);
void qc_endpoint_free(qc_endpoint *ep);

enum qc_ep_action {
    QC_EP_DROP = 0, /* ignore the datagram */
    QC_EP_ROUTE,    /* hand it to d->conn */
    QC_EP_ACCEPT,   /* create a connection (see the fields below), then hand it to it */
    QC_EP_REPLY,    /* send the d->reply_len bytes written to out back to the sender */
};

typedef struct qc_ep_decision {
    enum qc_ep_action action;
    void *conn;     /* ROUTE */
    qc_pkt_hdr hdr; /* ACCEPT: the client's Initial */
    qc_cid scid;    /* ACCEPT: the connection ID to use */
    bool has_odcid; /* ACCEPT after a Retry: odcid and retry_scid are set */
    qc_cid odcid, retry_scid;
    bool validated;   /* ACCEPT: a token proved the client's address */
    bool bad_token;   /* ACCEPT: an invalid Retry token: close with INVALID_TOKEN */
    bool shed_oldest; /* ACCEPT: the pending-handshake cap is reached: the caller closes its
                         oldest handshake in progress (qc_endpoint_closed) to make room */
    size_t reply_len; /* REPLY */
    const char *why;  /* DROP: the reason, for logs */
} qc_ep_decision;

/*
 * Decides about one datagram from a client at addr (addr identifies the
 * address: any stable bytes, e.g. family, IP and port). out (cap bytes, at
 * least 1200) receives a stateless reply. After an ACCEPT the caller creates
 * the connection with qc_endpoint_bind() hooks, registers d->scid and
 * d->hdr.dcid with qc_endpoint_add(), and calls qc_endpoint_established()
 * or qc_endpoint_closed() later.
 */
void qc_endpoint_decide(qc_endpoint *ep, const uint8_t *dgram, size_t len, const uint8_t *addr,
                        size_t addr_len, qc_ts now, uint8_t *out, size_t cap, qc_ep_decision *d);

/* Connection-ID table. */
int qc_endpoint_add(qc_endpoint *ep, const qc_cid *cid, void *conn);
void qc_endpoint_remove(qc_endpoint *ep, const qc_cid *cid);
void qc_endpoint_remove_conn(qc_endpoint *ep, void *conn);
void *qc_endpoint_lookup(const qc_endpoint *ep, const qc_cid *cid);

/* The application-side record that ties a connection's CID hooks to the endpoint. */
typedef struct qc_ep_binding {
    qc_endpoint *ep;
    void *conn;
} qc_ep_binding;
/* Hooks for qc_conn_config.cid_hooks; b must live as long as the connection. */
qc_cid_hooks qc_endpoint_bind(qc_ep_binding *b);

/* Handshake finished (counts toward max_pending no more) / connection gone; addr is the
 * address the connection was accepted from, as given to qc_endpoint_decide. */
void qc_endpoint_established(qc_endpoint *ep, const uint8_t *addr, size_t addr_len);
void qc_endpoint_closed(qc_endpoint *ep, bool was_pending, const uint8_t *addr, size_t addr_len);
/* Handshakes in progress from addr. */
size_t qc_endpoint_pending_from(const qc_endpoint *ep, const uint8_t *addr, size_t addr_len);

/* Mints a NEW_TOKEN token for a client at addr, valid for connections of this QUIC version
 * only (RFC 9369 §5; nonce from the endpoint's RNG). */
int qc_endpoint_new_token(qc_endpoint *ep, const uint8_t *addr, size_t addr_len, uint32_t version,
                          qc_ts now, uint8_t *out, size_t cap);

#endif
