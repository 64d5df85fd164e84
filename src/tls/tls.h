/*
 * tls.h: the GnuTLS implementation of the handshake interface (core/hs.h)
 * and of the crypto provider (core/crypto.h). This directory is the only
 * code in quicc that talks to GnuTLS.
 */
#ifndef QC_TLS_H
#define QC_TLS_H

#include "core/crypto.h"
#include "core/hs.h"

/* The crypto provider backed by GnuTLS (AES-GCM, ChaCha20-Poly1305, HKDF). */
extern const qc_crypto_provider qc_gnutls_crypto;

/*
 * Shared configuration: credentials and trust. Immutable once built;
 * refcounted (every qc_tls_new takes a reference, dropped when that
 * handshake is freed). Thread safety: a context may be used concurrently
 * by any number of connections on any threads (qc_tls_new, qc_tls_ctx_ref
 * and qc_tls_ctx_free are safe to call concurrently); a single qc_hs is
 * not thread-safe and must be driven by one thread at a time.
 */
typedef struct qc_tls_ctx qc_tls_ctx;

typedef struct qc_tls_ctx_config {
    bool is_server;
    /* ALPN protocols in preference order, each 1..255 bytes. Required for a server; a client
     * may leave it empty and give its list per session (qc_tls_session_config). */
    const char *const *alpn;
    size_t alpn_count;
    /* Client: verify the server certificate (default true). */
    bool verify_peer;
    /* PEM CA file and/or a directory of PEM CA files; both NULL = the system trust
     * store (honours SSL_CERT_FILE and SSL_CERT_DIR). Loaded once, when the context is made. */
    const char *ca_file;
    const char *ca_dir;
    /* Server, or a client that authenticates itself: PEM certificate chain and key files. */
    const char *cert_file, *key_file;
    /* Server: ask the client for a certificate (and check it against ca_file/ca_dir or the
     * system store); require_peer_cert: a client without one is refused. */
    bool request_peer_cert, require_peer_cert;
    /* Called once the peer's chain has been checked, with the verdict (ok), the reason when
     * not ok, and the chain in DER; returns whether to accept. NULL: the verdict stands. */
    int (*verify_cb)(void *user, int ok, const char *reason, size_t n, const uint8_t *const *der,
                     const size_t *len);
    void *verify_user;
    /* NSS key log file to append secrets to (NULL = none). */
    const char *keylog_file;
    /*
     * Cipher suites to offer/accept, a bitmask of (1u << enum qc_suite);
     * 0 = all three (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305).
     */
    unsigned suites;
    /* 0-RTT (RFC 9001 §4.6). Server: accept it (tickets then allow it; a replay cache of
     * early_data_replay_cap entries refuses a ClientHello seen before, or any when full).
     * Client: attempt it when the resumed session allows it. */
    bool early_data;
    size_t early_data_replay_cap; /* default 65536 */
} qc_tls_ctx_config;

/* Creates a context; on failure returns NULL and writes a reason into err (if not NULL). */
qc_tls_ctx *qc_tls_ctx_new(const qc_tls_ctx_config *cfg, char *err, size_t err_len);
/* Drops a reference; the context is destroyed when the last one goes. NULL is ignored. */
void qc_tls_ctx_free(qc_tls_ctx *ctx);
/* Takes another reference to ctx and returns it. */
qc_tls_ctx *qc_tls_ctx_ref(qc_tls_ctx *ctx);

/*
 * What one client handshake needs beyond its context. The server name sent
 * (SNI) and the names the certificate is checked against are independent:
 * the certificate must match one of verify_hosts, or sni when no verify
 * host is given; no name at all means only the chain is checked. An IP
 * literal is never sent as SNI, and is checked against the certificate's IP
 * addresses. alpn_wire (RFC 7301 wire format) replaces the context's ALPN
 * list when given.
 */
typedef struct qc_tls_session_config {
    const char *sni;
    const char *const *verify_hosts;
    size_t verify_host_count;
    const uint8_t *alpn_wire;
    size_t alpn_wire_len;
} qc_tls_session_config;

/* Creates the handshake for one connection (scfg may be NULL: none of the above, as on a
 * server). On success fills hs and returns 0; QC_ERR_INVAL for a bad ALPN list or no ALPN. */
int qc_tls_new_ex(qc_tls_ctx *ctx, const qc_tls_session_config *scfg, const qc_hs_callbacks *cbs,
                  qc_hs *hs);
/* The same with server_name as both the SNI and the one name checked (NULL: neither). */
int qc_tls_new(qc_tls_ctx *ctx, const char *server_name, const qc_hs_callbacks *cbs, qc_hs *hs);

/*
 * After a QC_ERR_VERIFY: a one-line reason, one of "untrusted issuer",
 * "name mismatch", "expired", "not yet valid", "revoked", "invalid
 * certificate". NULL when no verification failure happened.
 */
const char *qc_tls_verify_error(const qc_hs *hs);
/* Verification status bits (GnuTLS gnutls_certificate_status_t), 0 when trusted. */
unsigned qc_tls_verify_status(const qc_hs *hs);

/*
 * Session resumption (client). The handshake keeps the latest session
 * received in a NewSessionTicket (delivered at the 1-RTT epoch after the
 * handshake completes). qc_tls_get_session copies it into buf: returns 0
 * and sets *len; QC_ERR_AGAIN when no ticket has arrived yet; QC_ERR_NOBUF
 * when cap is too small (*len is then the size needed; buf may be NULL to
 * ask for the size). qc_tls_session_count tells how many tickets arrived.
 */
int qc_tls_get_session(const qc_hs *hs, uint8_t *buf, size_t cap, size_t *len);
unsigned qc_tls_session_count(const qc_hs *hs);
/*
 * Client, before start: offers the session saved by qc_tls_get_session to
 * resume. Returns 0, or QC_ERR_INVAL (server side, already started, or data
 * GnuTLS cannot parse).
 */
int qc_tls_set_session(qc_hs *hs, const uint8_t *data, size_t len);
/* True once the handshake completed as a resumption (PSK from a ticket). */
bool qc_tls_is_resumed(const qc_hs *hs);

/*
 * The peer's end-entity certificate in DER, valid while the handshake
 * lives: 0, or QC_ERR_AGAIN when none has been received.
 */
int qc_tls_peer_cert(const qc_hs *hs, const uint8_t **der, size_t *len);
/* The peer's certificate chain as it sent it: its length, and certificate i (0: the
 * end-entity one) in DER (0, or QC_ERR_AGAIN past the end). */
size_t qc_tls_peer_chain_len(const qc_hs *hs);
int qc_tls_peer_cert_at(const qc_hs *hs, size_t i, const uint8_t **der, size_t *len);
/* The version of the GnuTLS library the process runs with ("3.7.9"). */
const char *qc_tls_library_version(void);
/* The negotiated TLS 1.3 suite by its IANA name (TLS_AES_128_GCM_SHA256, ...), or NULL
 * before the handshake chose one. */
const char *qc_tls_cipher_name(const qc_hs *hs);
/* Keying material exported from the session (RFC 8446 §7.5, RFC 5705): 0, QC_ERR_AGAIN
 * before the handshake completed, QC_ERR_TLS when GnuTLS refuses. */
int qc_tls_export(const qc_hs *hs, const char *label, size_t label_len, const uint8_t *context,
                  size_t context_len, uint8_t *out, size_t out_len);
/* Client: called (from inside recv_crypto) each time a NewSessionTicket made a resumable
 * session; qc_tls_get_session then returns it. */
void qc_tls_set_ticket_cb(qc_hs *hs, void (*cb)(void *user), void *user);
/* Subject and issuer names of a DER certificate as RFC 4514 text (malloc'd). */
int qc_tls_cert_names(const uint8_t *der, size_t len, char **subject, char **issuer);
/* Server, after the handshake: sends one more NewSessionTicket. */
int qc_tls_send_ticket(qc_hs *hs);

/*
 * Test and tool certificates (certgen.c). Writes a fresh ECDSA P-256 key
 * (PEM, mode 0600) to key_path and an X.509 v3 certificate (PEM) to
 * cert_path, valid from not_before to not_after (Unix seconds), with the
 * given DNS names and IP address literals (IPv4 or IPv6 text) as subject
 * alternative names; the subject CN is the first DNS name (or "quicc").
 * Returns 0, or QC_ERR_INVAL (bad argument or IP literal) / QC_ERR_CRYPTO
 * (GnuTLS failure) / QC_ERR_INTERNAL (file I/O) with a reason in err.
 */
/* A self-signed end-entity certificate (CA:FALSE, serverAuth). */
int qc_tls_generate_selfsigned(const char *cert_path, const char *key_path,
                               const char *const *dns_names, size_t ndns,
                               const char *const *ip_addrs, size_t nip, int64_t not_before,
                               int64_t not_after, char *err, size_t err_len);
/* The same with an Ed25519 key: fixed-size signatures make handshake sizes repeatable (the
 * network simulator's deterministic runs rely on it). */
int qc_tls_generate_selfsigned_ed25519(const char *cert_path, const char *key_path,
                                       const char *const *dns_names, size_t ndns,
                                       const char *const *ip_addrs, size_t nip, int64_t not_before,
                                       int64_t not_after, char *err, size_t err_len);
/* A self-signed CA certificate (CA:TRUE, keyCertSign) with subject CN=common_name. */
int qc_tls_generate_ca(const char *cert_path, const char *key_path, const char *common_name,
                       int64_t not_before, int64_t not_after, char *err, size_t err_len);
/* An end-entity certificate like qc_tls_generate_selfsigned, signed by a CA's PEM files. */
int qc_tls_generate_ca_signed(const char *cert_path, const char *key_path,
                              const char *const *dns_names, size_t ndns,
                              const char *const *ip_addrs, size_t nip, int64_t not_before,
                              int64_t not_after, const char *ca_cert_path, const char *ca_key_path,
                              char *err, size_t err_len);

#endif
