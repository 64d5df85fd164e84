/*
 * sim.h: an in-process network simulator for engine tests. A client and a
 * server qc_conn talk over two one-way links with a virtual clock and a
 * seeded random generator deciding loss, duplication, reordering, delay
 * and a bandwidth limit. The same seed reproduces the same run: every
 * datagram event is folded into a trace hash the tests can compare.
 *
 * The simulator also plays the server's listener for the first Initial
 * (creating the server connection, optionally after a Retry).
 *
 * With SIM_TRACE set in the environment, every datagram sent is printed (time, direction,
 * length, first byte, and whether the link lost it).
 */
#ifndef QC_SIM_H
#define QC_SIM_H

#include "core/conn.h"
#include "core/endpoint.h"
#include "tls/tls.h"

typedef struct sim_link {
    double loss;         /* probability a datagram is dropped */
    double dup;          /* probability it is delivered twice */
    double reorder;      /* probability it gets extra delay (reordering) */
    qc_ts delay;         /* one-way propagation delay */
    qc_ts reorder_delay; /* extra delay for reordered datagrams */
    uint64_t rate_bps;   /* bottleneck rate in bits/s; 0 = unlimited */
    size_t queue_bytes;  /* bottleneck queue; beyond it datagrams are dropped (0 = 1 MB) */
    unsigned burst;      /* a loss takes 1..burst datagrams in a row (0 or 1: one) */
    bool bleach;         /* clear ECN marks (a middlebox that does); marks pass otherwise */
    double ce;           /* probability an ECN-capable datagram is marked CE */
    unsigned burst_left; /* (state) datagrams the current loss burst still takes */
} sim_link;

typedef struct sim_dgram {
    qc_ts at;
    uint64_t seq;
    int to_server;
    uint8_t ecn;       /* the ECN codepoint it carries */
    qc_path_addr addr; /* with paths on: to the server, its source; to the client, its
                          destination */
    size_t len;
    uint8_t data[1500];
} sim_dgram;

typedef struct sim {
    qc_ts now;
    uint64_t rng;
    sim_link link[2]; /* [0] client->server, [1] server->client */
    qc_ts link_free[2];
    sim_dgram **q; /* pending deliveries (binary heap on (at, seq)) */
    size_t qn, qcap;
    uint64_t seq;
    qc_conn *client, *server;
    qc_tls_ctx *tls_client, *tls_server;
    qc_conn_config ccfg, scfg;
    bool retry; /* server demands address validation with Retry */
    bool retry_sent;
    qc_cid client_odcid;
    qc_endpoint ep;           /* the server's listener logic */
    qc_endpoint_config epcfg; /* may be changed before sim_start */
    qc_ep_binding binding;
    bool ep_ready;
    uint64_t trace; /* FNV-1a over (time, direction, length, fate) of each datagram */
    uint64_t dgrams[2], dropped[2];
    uint64_t ce_marked[2]; /* datagrams the links marked CE */
    char dir[256];         /* temp dir with the certificate */
    char alpn[64];         /* the protocol both sides use */
    /* Optional tap: sees (and may change) each datagram about to be delivered. Returns
     * false to drop it. */
    bool (*tap)(struct sim *s, int to_server, uint8_t *data, size_t *len, void *user);
    void *tap_user;
    /* Paths (off unless set): the server learns each datagram's source address, a NAT
     * may rebind the client's (client_addr changes), and the client receives only what is
     * sent to client_addr (or to recv_also, when its ip_len is set). */
    bool paths;
    qc_path_addr client_addr, recv_also;
    uint64_t sent_to_other[2]; /* server datagrams to an address the client no longer has */
    qc_path_addr enqueue_addr; /* internal: the address of the datagram being queued */
    /* The server's datagrams that were the first to a new address, and those of them that
     * carried a PATH_CHALLENGE (the runner's rule, checked in the engine). */
    uint64_t new_path_first, new_path_first_challenged;
    qc_path_addr server_last_dst;
} sim;

/* Creates a simulator with seed; alpn is the protocol both sides use. Returns 0 or -1. */
int sim_init(sim *s, uint64_t seed, const char *alpn);
void sim_free(sim *s);
/* Delivers a datagram to the server as if from addr (paths on). */
void sim_inject_from(sim *s, uint8_t *data, size_t len, const qc_path_addr *addr);
/* Starts the server's listener only (sim_start does it too). */
int sim_listen(sim *s);
/* Starts the client's handshake. */
int sim_start(sim *s);
/* Remakes both TLS contexts with 0-RTT allowed (server) and attempted (client). */
int sim_enable_early_data(sim *s);
/* Starts a client that resumes session (a ticket from qc_tls_get_session) with the server
 * parameters it remembered (qc_conn_remembered_tparams; NULL: none). */
int sim_start_resumed(sim *s, const uint8_t *session, size_t len, const uint8_t *tp, size_t tp_len);
/* Advances until cond(s, user) is true or the virtual time passes limit. Returns true if
 * cond became true. */
bool sim_run(sim *s, qc_ts limit, bool (*cond)(sim *s, void *user), void *user);
/* Frees both connections, the listener and every datagram in flight, and starts again with
 * seed (the TLS contexts and configurations are kept): many runs per process, as fuzzing
 * needs. */
void sim_reset(sim *s, uint64_t seed);
/* Delivers a datagram now, to the server (through the listener) or to the client, as if it
 * had come over the link; it may be changed in place. */
void sim_inject(sim *s, int to_server, uint8_t *data, size_t len);
/*
 * Builds one packet as `from` would send it in epoch ep, carrying the given frames, under
 * from's current keys and with its next packet number, into out; a client's Initial is
 * padded to 1200 bytes. This is how a hostile peer speaks with real keys. Returns the
 * length, or 0 if from has no send keys for ep or the packet does not fit.
 */
size_t sim_seal(qc_conn *from, enum qc_epoch ep, const uint8_t *frames, size_t n, uint8_t *out,
                size_t cap);
/* The same with bits ORed into the first byte before protection (reserved bits). */
size_t sim_seal_bits(qc_conn *from, enum qc_epoch ep, uint8_t first_or, const uint8_t *frames,
                     size_t n, uint8_t *out, size_t cap);

/* Deterministic random in [0, 1). */
double sim_rand01(sim *s);
uint64_t sim_rand64(sim *s);

/* Conditions. */
bool sim_cond_established(sim *s, void *user);
bool sim_cond_both_closed(sim *s, void *user);

/* SHA-256 helpers for verifying transfers. */
typedef struct sim_hash {
    void *h;
} sim_hash;
void sim_hash_init(sim_hash *h);
void sim_hash_update(sim_hash *h, const void *data, size_t len);
void sim_hash_final(sim_hash *h, uint8_t out[32]);
/* Fills buf with the deterministic pattern for offset (same bytes for same offsets). */
void sim_pattern(uint8_t *buf, size_t len, uint64_t offset, uint64_t key);

/*
 * A request/response application over the simulated connection: the client
 * sends a 16-byte request (size, key) with FIN on a new bidi stream; the
 * server answers with `size` bytes of sim_pattern(key) and FIN. Each
 * response is verified by SHA-256 against the expected pattern.
 */
typedef struct sim_req {
    uint64_t size, key;
    uint64_t sid;
    bool opened, done, failed;
    bool corrupt; /* the FIN arrived but the bytes were not the expected ones */
    uint64_t got;
    sim_hash h;
    uint8_t expect[32];
} sim_req;

typedef struct sim_srv_stream {
    uint64_t sid;
    uint8_t req[16];
    size_t reqlen;
    bool req_fin, responding, finished;
    uint64_t size, key, sent;
} sim_srv_stream;

typedef struct sim_app {
    bool early; /* open requests before the handshake completes (0-RTT) */
    sim_req *reqs;
    size_t n, completed, failed;
    size_t max_parallel, open_now;
    sim_srv_stream *srv;
    size_t nsrv, capsrv;
} sim_app;

void sim_app_init(sim_app *a, size_t n, uint64_t size, size_t max_parallel);
void sim_app_free(sim_app *a);
/* Pumps both sides; returns true when every request completed (verified or failed). Use as
 * the sim_run condition. */
bool sim_app_step(sim *s, void *user);

#endif
