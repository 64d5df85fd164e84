/*
 * quicc.h: the public API of libquicc, a QUIC (RFC 9000) implementation.
 *
 * The model is the one OpenSSL's QUIC guides teach: one object kind,
 * `quicc`, stands for a connection or for a stream of a connection, and is
 * used with the same calls (read, write, get_error...). A configuration
 * context, `quicc_ctx`, holds what connections share (role, trust, ALPN).
 * docs/openssl-mapping.md maps every OpenSSL call onto its quicc twin.
 *
 * Conventions: functions returning int return 1 on success and 0 on
 * failure unless stated otherwise; after a failure quicc_get_error() tells
 * why, and quicc_err_get() pops the reason from the calling thread's error
 * queue. Objects are blocking by default.
 */
#ifndef QUICC_H
#define QUICC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#ifdef __cplusplus
extern "C" {
#endif
/* libquicc is built with hidden visibility: only what this header declares is exported. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* ---- Version ---- */

/* The version of this header; quicc_version() tells the library's. */
#define QUICC_VERSION_MAJOR 0
#define QUICC_VERSION_MINOR 1
#define QUICC_VERSION_PATCH 0
#define QUICC_VERSION_STRING "0.1.0"
/* 0xMMNNPP00: comparable, like OPENSSL_VERSION_NUMBER */
#define QUICC_VERSION_NUMBER                                                                       \
    ((QUICC_VERSION_MAJOR << 24) | (QUICC_VERSION_MINOR << 16) | (QUICC_VERSION_PATCH << 8))

#define QUICC_VERSION_LIBRARY 0 /* "0.1.0" */
#define QUICC_VERSION_GNUTLS 1  /* the GnuTLS the library runs with, "3.7.9" */
#define QUICC_VERSION_TEXT 2    /* "quicc 0.1.0 (GnuTLS 3.7.9)" */
/* Like OpenSSL_version(): a static string, or NULL for an unknown what. The nghttp3 under
 * the HTTP/3 layer: quicc_h3_version(). */
const char *quicc_version(int what);
/* The library's QUICC_VERSION_NUMBER (which may differ from the header's). */
unsigned long quicc_version_number(void);

typedef struct quicc_ctx quicc_ctx;
typedef struct quicc quicc;

/* ---- Memory ---- */

/*
 * Like CRYPTO_set_mem_functions(): every allocation libquicc makes (not
 * GnuTLS's or nghttp3's) goes through m, r and f, which receive the file and
 * line of the allocating call. Call it before anything else in the library;
 * returns 1, or 0 once the library has allocated (the old functions stay)
 * or when any of the three is NULL.
 */
int quicc_set_mem_functions(void *(*m)(size_t size, const char *file, int line),
                            void *(*r)(void *p, size_t size, const char *file, int line),
                            void (*f)(void *p, const char *file, int line));

/* ---- Context ---- */

enum quicc_method {
    QUICC_CLIENT = 1,        /* like OSSL_QUIC_client_method() */
    QUICC_CLIENT_THREAD = 2, /* like OSSL_QUIC_client_thread_method(): thread-assisted */
    QUICC_SERVER = 3,        /* like OSSL_QUIC_server_method(): for listeners */
};

quicc_ctx *quicc_ctx_new(enum quicc_method method);
void quicc_ctx_free(quicc_ctx *ctx);

#define QUICC_VERIFY_NONE 0
#define QUICC_VERIFY_PEER 1
#define QUICC_VERIFY_FAIL_IF_NO_PEER_CERT 2
/* Client contexts: whether the server certificate is verified (default QUICC_VERIFY_PEER).
 * Server contexts (default NONE): PEER asks clients for a certificate and verifies the ones
 * sent against the context's trust store; with FAIL_IF_NO_PEER_CERT a client without one is
 * refused. OpenSSL's numbers. */
void quicc_ctx_set_verify(quicc_ctx *ctx, int mode);
/* The application's say on the peer's certificate (the callback of SSL_CTX_set_verify):
 * called once per handshake, after quicc's own checks, with their verdict (preverify_ok,
 * and info->result: QUICC_VERIFY_OK or why not) and the chain as the peer sent it; it
 * returns 1 to accept, 0 to refuse (then QUICC_VERIFY_ERR_INVALID unless quicc had a
 * reason). It runs inside the handshake: it must not call quicc on that connection. */
typedef struct quicc_verify_info {
    long result;
    size_t chain_len;
    const unsigned char *const *der; /* der[i], der_len[i]: certificate i, 0 = the peer's own */
    const size_t *der_len;
} quicc_verify_info;
typedef int (*quicc_verify_cb)(int preverify_ok, const quicc_verify_info *info, void *arg);
void quicc_ctx_set_verify_callback(quicc_ctx *ctx, quicc_verify_cb cb, void *arg);
/* Trust the system store, honouring SSL_CERT_FILE and SSL_CERT_DIR. */
int quicc_ctx_set_default_verify_paths(quicc_ctx *ctx);
/* Trust the certificates in a PEM file, or in every PEM file of a directory (either may be NULL
 * for load_verify_locations). The store is loaded once, on the first connect, and shared. */
int quicc_ctx_load_verify_file(quicc_ctx *ctx, const char *pem_file);
int quicc_ctx_load_verify_dir(quicc_ctx *ctx, const char *dir);
int quicc_ctx_load_verify_locations(quicc_ctx *ctx, const char *pem_file, const char *dir);
/* TLS 1.3 suites, colon-separated OpenSSL names (TLS_AES_128_GCM_SHA256,
 * TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256); default all three. */
int quicc_ctx_set_ciphersuites(quicc_ctx *ctx, const char *list);
/* Append TLS secrets in NSS key log format to this file. */
int quicc_ctx_set_keylog_file(quicc_ctx *ctx, const char *path);
/* 0-RTT (RFC 9001 §4.6). Server: quicc_ctx_set_max_early_data(ctx, n) with n > 0 (before
 * quicc_new_listener) makes its session tickets allow 0-RTT, which it then accepts, with a
 * replay cache that refuses a ClientHello seen before (QUIC sends 0xffffffff whatever n
 * is; OpenSSL's SSL_CTX_set_max_early_data). Client: a connection resuming such a session
 * (quicc_set_session, or the context's session cache) may write before the handshake
 * completes: quicc_write_early_data (SSL_write_early_data) starts the handshake and writes
 * buf on the default stream in 0-RTT packets; after it, quicc_new_stream and writes on
 * streams go in 0-RTT too, until the handshake completes. It fails with
 * QUICC_R_NO_EARLY_DATA when 0-RTT is not possible (no such session). Data the server
 * refuses goes again in 1-RTT by itself; quicc_get_early_data_status tells what
 * happened once the handshake is done. */
int quicc_ctx_set_max_early_data(quicc_ctx *ctx, uint32_t max_early_data);
uint32_t quicc_ctx_get_max_early_data(const quicc_ctx *ctx);
int quicc_write_early_data(quicc *s, const void *buf, size_t num, size_t *written);
#define QUICC_EARLY_DATA_NOT_SENT 0 /* OpenSSL's numbers */
#define QUICC_EARLY_DATA_REJECTED 1
#define QUICC_EARLY_DATA_ACCEPTED 2
int quicc_get_early_data_status(const quicc *s);
/* qlog (draft-ietf-quic-qlog): connections made from ctx write their events, one JSON-SEQ
 * file each, to dir/<original DCID>_<client|server>.sqlog (NULL: no more files). A quicc
 * extension; the tools honour QLOGDIR with it. Returns 1, or 0 without memory. */
int quicc_ctx_set_qlog_dir(quicc_ctx *ctx, const char *dir);
/* QUIC versions (a quicc extension: OpenSSL speaks QUIC v1 only). */
#define QUICC_QUIC_VERSION_1 0x00000001u
#define QUICC_QUIC_VERSION_2 0x6b3343cfu       /* RFC 9369 */
#define QUICC_QUIC_VERSION_2_DRAFT 0x709a50c4u /* draft-ietf-quic-v2, for older peers */
/* The versions connections of ctx may use (1 to 4, none twice), for compatible version
 * negotiation (RFC 9368). Client: the first is the version of its first Initial, unless
 * the server's address-validation token came from another one of the list (tokens are
 * good for one version); all are offered, and the server may move the connection to any
 * of them. Default: v1 only. Server (set before quicc_new_listener): the versions a
 * client's first Initial may come in, and the order of preference in which the server
 * moves a connection to one the client offers. Default: v2, v1. Returns 1, or 0 for a bad
 * list. */
int quicc_ctx_set_quic_versions(quicc_ctx *ctx, const uint32_t *versions, size_t n);

/* The certificate chain and private key (PEM files): a server's, or a client's, sent when
 * the server asks for one. */
int quicc_ctx_use_certificate_chain_file(quicc_ctx *ctx, const char *file);
int quicc_ctx_use_PrivateKey_file(quicc_ctx *ctx, const char *file);
/* Server: the ALPN protocols offered, in preference order (wire format). The first one the
 * client also offers is chosen; a client offering none of them is refused (alert 120).
 * (OpenSSL selects with SSL_CTX_set_alpn_select_cb.) Client: the list connections offer when
 * they set none. Returns 0 on success, 1 on failure, as OpenSSL's does. */
int quicc_ctx_set_alpn_protos(quicc_ctx *ctx, const unsigned char *protos, unsigned int len);

/* ---- Listeners (server side) ---- */

#define QUICC_LISTENER_FLAG_RETRY (1u << 0)    /* always validate addresses with Retry */
#define QUICC_LISTENER_FLAG_NO_RETRY (1u << 1) /* never send Retry (default: under load) */
/* A listener on a server context; give it a bound UDP socket with quicc_set_fd(). */
quicc *quicc_new_listener(quicc_ctx *ctx, uint64_t flags);
/* Starts accepting connections. */
int quicc_listen(quicc *listener);
#define QUICC_ACCEPT_CONNECTION_NO_BLOCK (1u << 0)
/* The next connection whose handshake completed (blocking unless NO_BLOCK or nonblocking). */
quicc *quicc_accept_connection(quicc *listener, uint64_t flags);
size_t quicc_get_accept_connection_queue_len(quicc *listener);
int quicc_is_listener(const quicc *s);
/* The listener a connection came from (NULL for client connections). */
quicc *quicc_get0_listener(quicc *s);
/* The peer's address of a connection (like SSL_get_peer_addr). */
int quicc_get_peer_addr(quicc *s, struct sockaddr_storage *addr, socklen_t *len);

/* ---- A datagram transport of the application's own (quicc extension) ---- */

/*
 * Instead of a UDP socket, a connection or listener can move its datagrams through
 * callbacks (the counterpart of an OpenSSL datagram BIO, SSL_set_bio). send takes n
 * datagrams and returns how many it took (0: none now, try again when fd is writable), or
 * -1 when the transport failed for good; recv fills up to n datagrams (data has room for
 * len bytes; it sets len, and peer when it knows the sender) and returns how many, 0 when
 * none is waiting, or -1. fd must become readable when recv may have datagrams: quicc
 * waits on it (blocking calls, quicc_poll) and quicc_get_fd returns it. The callbacks are
 * called with the object's lock held, from whichever thread drives it.
 */
typedef struct quicc_dgram {
    unsigned char *data;
    size_t len;
    struct sockaddr_storage peer; /* send: destination; recv: source (peer_len 0: unknown) */
    socklen_t peer_len;
    /* The ECN codepoint (RFC 3168: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE). send: what the
     * datagram should carry; recv: what it arrived with (0 when the transport cannot tell;
     * quicc then finds ECN unusable on the path and stops marking). */
    unsigned char ecn;
} quicc_dgram;

typedef struct quicc_transport {
    int (*send)(void *user, const quicc_dgram *d, size_t n);
    int (*recv)(void *user, quicc_dgram *d, size_t n);
    int fd;
    void *user;
} quicc_transport;

/* On a connection before connecting, or a listener before listening (instead of
 * quicc_set_fd). The transport is copied; what user points to must outlive the object. */
int quicc_set_transport(quicc *s, const quicc_transport *t);

/* An in-memory pair of datagram transports (like BIO_s_dgram_pair): what one end sends,
 * the other receives, in order; a direction holds capacity datagrams (0: 4096) and drops
 * what does not fit. End 0 appears as 127.0.0.1 port 1, end 1 as port 2. */
typedef struct quicc_dgram_pair quicc_dgram_pair;
quicc_dgram_pair *quicc_dgram_pair_new(size_t capacity);
void quicc_dgram_pair_free(quicc_dgram_pair *p);
int quicc_dgram_pair_transport(quicc_dgram_pair *p, int end, quicc_transport *t);
int quicc_dgram_pair_addr(const quicc_dgram_pair *p, int end, struct sockaddr_storage *addr,
                          socklen_t *len);

/* ---- Connection setup ---- */

quicc *quicc_new(quicc_ctx *ctx);
/* Frees a connection or stream object. Streams must be freed before their connection. */
void quicc_free(quicc *s);

/* Use this UDP socket (nonblocking, owned by the caller). Without one, quicc_connect
 * creates and owns a socket for the initial peer address. */
int quicc_set_fd(quicc *s, int fd);
int quicc_get_fd(const quicc *s);
/* The server's address for the first flight (before connecting). */
int quicc_set1_initial_peer_addr(quicc *s, const struct sockaddr *addr, socklen_t len);
/* SNI to send (like SSL_set_tlsext_host_name). */
int quicc_set_tlsext_host_name(quicc *s, const char *name);
/* Names the certificate must match, one of them (like SSL_set1_host, which replaces the list,
 * and SSL_add1_host, which adds to it); independent of the SNI. Without any, the certificate
 * is checked against the SNI name. */
int quicc_set1_host(quicc *s, const char *name);
int quicc_add1_host(quicc *s, const char *name);
/* ALPN list in wire format (length-prefixed names). Required before connecting, here or on
 * the context. Returns 0 on success and 1 on failure, as OpenSSL's SSL_set_alpn_protos. */
int quicc_set_alpn_protos(quicc *s, const unsigned char *protos, unsigned int len);
/* The negotiated protocol after the handshake (*data NULL if none). */
void quicc_get0_alpn_selected(const quicc *s, const unsigned char **data, unsigned int *len);

/* Runs the handshake. Returns 1 when done; 0 or -1 on failure or (nonblocking) not yet. */
int quicc_connect(quicc *s);
/* The same (SSL_do_handshake). */
int quicc_do_handshake(quicc *s);
/* What the last failing call waits for (SSL_want): QUICC_NOTHING, QUICC_READING, or
 * QUICC_WRITING; want_read / want_write test one of them. */
#define QUICC_NOTHING 1
#define QUICC_WRITING 2
#define QUICC_READING 3
int quicc_want(const quicc *s);
int quicc_want_read(const quicc *s);
int quicc_want_write(const quicc *s);
/* Whether we sent (QUICC_SENT_SHUTDOWN) and received (QUICC_RECEIVED_SHUTDOWN) a
 * CONNECTION_CLOSE, or a stateless reset / idle timeout ended it (both), as SSL_get_shutdown. */
#define QUICC_SENT_SHUTDOWN 1
#define QUICC_RECEIVED_SHUTDOWN 2
int quicc_get_shutdown(const quicc *s);
/* The round-trip time the handshake measured, in microseconds (SSL_get_handshake_rtt):
 * 1, or 0 before the handshake completed. */
int quicc_get_handshake_rtt(const quicc *s, uint64_t *rtt_us);
/* The negotiated TLS 1.3 suite by its IANA name (SSL_CIPHER_get_name of
 * SSL_get_current_cipher), NULL before the handshake; and the protocol ("QUICv1", or
 * "QUICv2" once a connection moved to QUIC v2). */
const char *quicc_get_current_cipher_name(const quicc *s);
const char *quicc_get_version(const quicc *s);
/* The QUIC version a connection uses (a QUICC_QUIC_VERSION_*): the negotiated one once the
 * server answered, before that the version of the client's first Initial; 0 for a
 * listener or a connection not started. */
uint32_t quicc_get_quic_version(const quicc *s);
/* Keying material from the session (SSL_export_keying_material, RFC 8446 §7.5): 1, or 0
 * before the handshake completed or for bad arguments. Without use_context the context is
 * empty, which TLS 1.3 does not tell apart from none. */
int quicc_export_keying_material(quicc *s, unsigned char *out, size_t olen, const char *label,
                                 size_t llen, const unsigned char *context, size_t contextlen,
                                 int use_context);
/* Called each time the server's NewSessionTicket makes a session to resume, with the bytes
 * quicc_get_session would give (SSL_CTX_sess_set_new_cb). It runs inside quicc's event
 * processing: it may keep the bytes but must not call quicc on that connection. Its return
 * value is ignored (the bytes are the caller's copy for the call only). */
typedef int (*quicc_new_session_cb)(quicc *conn, const unsigned char *session, size_t len,
                                    void *arg);
void quicc_ctx_sess_set_new_cb(quicc_ctx *ctx, quicc_new_session_cb cb, void *arg);
/* Client session cache (SSL_CTX_set_session_cache_mode with SSL_SESS_CACHE_CLIENT): the
 * context keeps the latest session of each server (by name and address; eight at most) and a
 * connection to the same server that was given no session with quicc_set_session resumes
 * it. Off by default (QUICC_SESS_CACHE_OFF); returns the previous mode. */
#define QUICC_SESS_CACHE_OFF 0
#define QUICC_SESS_CACHE_CLIENT 1
long quicc_ctx_set_session_cache_mode(quicc_ctx *ctx, long mode);
long quicc_ctx_get_session_cache_mode(const quicc_ctx *ctx);

/* Verification result: 0 (QUICC_VERIFY_OK) or a QUICC_VERIFY_ERR_* code. */
#define QUICC_VERIFY_OK 0
#define QUICC_VERIFY_ERR_UNTRUSTED 1
#define QUICC_VERIFY_ERR_NAME_MISMATCH 2
#define QUICC_VERIFY_ERR_EXPIRED 3
#define QUICC_VERIFY_ERR_NOT_YET_VALID 4
#define QUICC_VERIFY_ERR_REVOKED 5
#define QUICC_VERIFY_ERR_INVALID 6
long quicc_get_verify_result(const quicc *s);
const char *quicc_verify_result_string(long result);

/* TLS session resumption (like SSL_get1_session, SSL_set_session, SSL_session_reused).
 * quicc_get_session copies the latest session ticket the server sent into buf, in an opaque
 * serialized form the application may store: returns 1 and sets *len; with buf NULL (or
 * *len too small) it sets *len to the size needed and returns 0 (reason
 * PASSED_INVALID_ARGUMENT when buf was given); 0 with QUICC_R_NO_SESSION before a ticket
 * arrived. quicc_set_session offers such a session on a connection not yet started. */
int quicc_get_session(quicc *s, unsigned char *buf, size_t *len);
int quicc_set_session(quicc *s, const unsigned char *data, size_t len);
/* 1 when the handshake resumed a session (PSK), 0 otherwise. */
int quicc_session_reused(const quicc *s);

/* The peer's certificate (its end-entity certificate), like SSL_get1_peer_certificate:
 * a copy the caller frees with quicc_cert_free(). NULL on a stream object, before the
 * handshake has received it, or when the peer sent none. */
typedef struct quicc_cert quicc_cert;
quicc_cert *quicc_get1_peer_certificate(quicc *s);
/* The certificate in DER form (valid while the quicc_cert lives). */
const unsigned char *quicc_cert_get0_der(const quicc_cert *cert, size_t *len);
/* Subject and issuer distinguished names as RFC 4514 text. */
const char *quicc_cert_get0_subject(const quicc_cert *cert);
const char *quicc_cert_get0_issuer(const quicc_cert *cert);
void quicc_cert_free(quicc_cert *cert);
/* The peer's chain as it sent it (SSL_get_peer_cert_chain): its length, and a copy of
 * certificate i (0: the end-entity one), NULL past the end. */
size_t quicc_get_peer_cert_chain_len(quicc *s);
quicc_cert *quicc_get1_peer_cert_at(quicc *s, size_t i);

/* ---- Blocking mode and the event loop ---- */

int quicc_set_blocking_mode(quicc *s, int blocking);
int quicc_get_blocking_mode(const quicc *s);
/* Does the connection want to read from / write to the network now? */
int quicc_net_read_desired(const quicc *s);
int quicc_net_write_desired(const quicc *s);
/* Time until quicc_handle_events must be called; *is_infinite set when no timer runs. */
int quicc_get_event_timeout(quicc *s, struct timeval *tv, int *is_infinite);
/* Processes pending network input, timers and output. */
int quicc_handle_events(quicc *s);
/* Feeds one datagram to the connection (or listener) as if it had arrived on its socket
 * from peer (like SSL_inject_net_dgram). For tests and alternative transports. */
int quicc_inject_net_dgram(quicc *s, const void *buf, size_t len, const struct sockaddr *peer,
                           socklen_t peer_len);

/* Modes (like SSL_set_mode, OpenSSL's numbers). ENABLE_PARTIAL_WRITE: a write succeeds
 * once part of the data is taken (*written says how much) instead of waiting or failing
 * with WANT_WRITE. ACCEPT_MOVING_WRITE_BUFFER: a nonblocking write retried after
 * WANT_WRITE may pass the same data at a different address. */
#define QUICC_MODE_ENABLE_PARTIAL_WRITE (1u << 0)
#define QUICC_MODE_ACCEPT_MOVING_WRITE_BUFFER (1u << 1)
/* Adds modes; returns the modes now set. */
uint64_t quicc_set_mode(quicc *s, uint64_t mode);
/* Removes modes; returns the modes now set. */
uint64_t quicc_clear_mode(quicc *s, uint64_t mode);
uint64_t quicc_get_mode(const quicc *s);

/* ---- Streams ---- */

#define QUICC_DEFAULT_STREAM_MODE_NONE 0
#define QUICC_DEFAULT_STREAM_MODE_AUTO_BIDI 1
#define QUICC_DEFAULT_STREAM_MODE_AUTO_UNI 2
int quicc_set_default_stream_mode(quicc *conn, uint32_t mode);

#define QUICC_INCOMING_STREAM_POLICY_AUTO 0
#define QUICC_INCOMING_STREAM_POLICY_ACCEPT 1
#define QUICC_INCOMING_STREAM_POLICY_REJECT 2
int quicc_set_incoming_stream_policy(quicc *conn, int policy, uint64_t app_error_code);

/* Moves the default stream out of the connection object into a stream object of its own
 * (NULL if there is none). Afterwards the connection has no default stream. */
quicc *quicc_detach_stream(quicc *conn);
/* Makes a stream object the connection's default stream; the stream object is consumed
 * (freed) on success. Fails if the connection already has a default stream. */
int quicc_attach_stream(quicc *conn, quicc *stream);

#define QUICC_STREAM_FLAG_UNI (1u << 0)
#define QUICC_STREAM_FLAG_NO_BLOCK (1u << 1)
#define QUICC_STREAM_FLAG_ADVANCE (1u << 2)
quicc *quicc_new_stream(quicc *conn, uint64_t flags);

#define QUICC_ACCEPT_STREAM_NO_BLOCK (1u << 0)
quicc *quicc_accept_stream(quicc *conn, uint64_t flags);
size_t quicc_get_accept_stream_queue_len(quicc *conn);

uint64_t quicc_get_stream_id(const quicc *s);
#define QUICC_STREAM_TYPE_NONE 0
#define QUICC_STREAM_TYPE_READ 1
#define QUICC_STREAM_TYPE_WRITE 2
#define QUICC_STREAM_TYPE_BIDI 3
int quicc_get_stream_type(const quicc *s);
int quicc_is_stream_local(const quicc *s);
int quicc_is_connection(const quicc *s);
quicc *quicc_get0_connection(quicc *s);

/* ---- Data ---- */

int quicc_read_ex(quicc *s, void *buf, size_t len, size_t *readbytes);
/* Like read_ex, but the bytes stay to be read again (SSL_peek_ex). */
int quicc_peek_ex(quicc *s, void *buf, size_t len, size_t *readbytes);
int quicc_write_ex(quicc *s, const void *buf, size_t len, size_t *written);
/* The int forms (SSL_read, SSL_peek, SSL_write): the byte count, or <= 0 (-1 when the call
 * should be retried, 0 otherwise; quicc_get_error tells). */
int quicc_read(quicc *s, void *buf, int num);
int quicc_peek(quicc *s, void *buf, int num);
int quicc_write(quicc *s, const void *buf, int num);
/* Bytes readable at once on the object's stream, without network work (SSL_pending), and
 * whether there are any (SSL_has_pending). */
int quicc_pending(const quicc *s);
int quicc_has_pending(const quicc *s);
#define QUICC_WRITE_FLAG_CONCLUDE (1u << 0)
int quicc_write_ex2(quicc *s, const void *buf, size_t len, uint64_t flags, size_t *written);
int quicc_stream_conclude(quicc *s, uint64_t flags);
int quicc_stream_reset(quicc *s, uint64_t app_error_code);

#define QUICC_STREAM_STATE_NONE 0
#define QUICC_STREAM_STATE_OK 1
#define QUICC_STREAM_STATE_WRONG_DIR 2
#define QUICC_STREAM_STATE_FINISHED 3
#define QUICC_STREAM_STATE_RESET_LOCAL 4
#define QUICC_STREAM_STATE_RESET_REMOTE 5
#define QUICC_STREAM_STATE_CONN_CLOSED 6
int quicc_get_stream_read_state(quicc *s);
int quicc_get_stream_write_state(quicc *s);
/* 1 with *code set when the part was reset; 0 after a normal end; -1 otherwise. */
int quicc_get_stream_read_error_code(quicc *s, uint64_t *code);
int quicc_get_stream_write_error_code(quicc *s, uint64_t *code);

/* Starts a key update (RFC 9001 section 6) on the connection of s. QUIC has no separate
 * "requested" form: both types update our keys, and the peer follows. */
#define QUICC_KEY_UPDATE_NONE (-1)
#define QUICC_KEY_UPDATE_NOT_REQUESTED 0
#define QUICC_KEY_UPDATE_REQUESTED 1
int quicc_key_update(quicc *s, int type);
/* REQUESTED while a key update we started waits for the peer's answer, else NONE. */
int quicc_get_key_update_type(const quicc *s);

/* ---- Poll (like SSL_poll) ---- */

/* Event bits, level-triggered. F (failure) is always reported, even when not asked for. */
#define QUICC_POLL_EVENT_NONE 0
#define QUICC_POLL_EVENT_F (1u << 0)    /* failure: the item cannot be polled */
#define QUICC_POLL_EVENT_EL (1u << 1)   /* listener: socket failed */
#define QUICC_POLL_EVENT_EC (1u << 2)   /* connection terminating (closing or draining) */
#define QUICC_POLL_EVENT_ECD (1u << 3)  /* connection terminated */
#define QUICC_POLL_EVENT_ER (1u << 4)   /* stream: receive part reset by the peer */
#define QUICC_POLL_EVENT_EW (1u << 5)   /* stream: peer asked us to stop sending */
#define QUICC_POLL_EVENT_R (1u << 6)    /* stream: data or FIN to read */
#define QUICC_POLL_EVENT_W (1u << 7)    /* stream: room to write */
#define QUICC_POLL_EVENT_IC (1u << 8)   /* listener: a connection to accept */
#define QUICC_POLL_EVENT_ISB (1u << 9)  /* connection: incoming bidirectional stream */
#define QUICC_POLL_EVENT_ISU (1u << 10) /* connection: incoming unidirectional stream */
#define QUICC_POLL_EVENT_OSB (1u << 11) /* connection: may open a bidirectional stream */
#define QUICC_POLL_EVENT_OSU (1u << 12) /* connection: may open a unidirectional stream */
#define QUICC_POLL_EVENT_RW (QUICC_POLL_EVENT_R | QUICC_POLL_EVENT_W)
#define QUICC_POLL_EVENT_RE (QUICC_POLL_EVENT_R | QUICC_POLL_EVENT_ER)
#define QUICC_POLL_EVENT_WE (QUICC_POLL_EVENT_W | QUICC_POLL_EVENT_EW)
#define QUICC_POLL_EVENT_RWE (QUICC_POLL_EVENT_RE | QUICC_POLL_EVENT_WE)
/* Every exception but ECD, as OpenSSL's SSL_POLL_EVENT_E (54): EC comes first anyway. */
#define QUICC_POLL_EVENT_E                                                                         \
    (QUICC_POLL_EVENT_EL | QUICC_POLL_EVENT_EC | QUICC_POLL_EVENT_ER | QUICC_POLL_EVENT_EW)
#define QUICC_POLL_EVENT_IS (QUICC_POLL_EVENT_ISB | QUICC_POLL_EVENT_ISU)
#define QUICC_POLL_EVENT_ISE (QUICC_POLL_EVENT_IS | QUICC_POLL_EVENT_EC)
#define QUICC_POLL_EVENT_I (QUICC_POLL_EVENT_IS | QUICC_POLL_EVENT_IC)
#define QUICC_POLL_EVENT_OS (QUICC_POLL_EVENT_OSB | QUICC_POLL_EVENT_OSU)
#define QUICC_POLL_EVENT_OSE (QUICC_POLL_EVENT_OS | QUICC_POLL_EVENT_EC)

typedef struct quicc_poll_item {
    quicc *desc;      /* a connection, stream or listener (NULL items are skipped) */
    uint64_t events;  /* the events of interest */
    uint64_t revents; /* set by quicc_poll: the events that are ready */
} quicc_poll_item;

/* Do not process network events first (only report the current state). */
#define QUICC_POLL_FLAG_NO_HANDLE_EVENTS (1u << 0)

/* Waits until at least one item has an event of interest (or F), or the timeout passes:
 * NULL waits forever, a zero timeout only looks. items is an array of num_items elements,
 * stride bytes apart (sizeof(quicc_poll_item) or a larger struct that begins with one).
 * Returns 1 with *result_count set to the number of items with revents, 0 on bad
 * arguments. Several connections may be polled at once. */
int quicc_poll(quicc_poll_item *items, size_t num_items, size_t stride,
               const struct timeval *timeout, uint64_t flags, size_t *result_count);

/* ---- Errors ---- */

#define QUICC_ERROR_NONE 0
#define QUICC_ERROR_SSL 1
#define QUICC_ERROR_WANT_READ 2
#define QUICC_ERROR_WANT_WRITE 3
#define QUICC_ERROR_SYSCALL 5
#define QUICC_ERROR_ZERO_RETURN 6
int quicc_get_error(const quicc *s, int ret);

/* Reasons in the error queue. */
#define QUICC_R_NONE 0
#define QUICC_R_STREAM_COUNT_LIMITED 1
#define QUICC_R_STREAM_FINISHED 2
#define QUICC_R_CONN_USE_ONLY 3
#define QUICC_R_PROTOCOL_IS_SHUTDOWN 4
#define QUICC_R_NETWORK_ERROR 5
#define QUICC_R_VERIFY_FAILED 6
#define QUICC_R_STREAM_RESET 7
#define QUICC_R_NO_ALPN 8
#define QUICC_R_STREAM_RECV_ONLY 9 /* writing or resetting a receive-only stream */
#define QUICC_R_NO_STREAM 10
#define QUICC_R_PASSED_INVALID_ARGUMENT 11
#define QUICC_R_HANDSHAKE_FAILED 12
/* 13 was CONNECTION_CLOSED: a closed connection now fails calls with PROTOCOL_IS_SHUTDOWN. */
#define QUICC_R_IDLE_TIMEOUT 14 /* the handshake timed out (later: PROTOCOL_IS_SHUTDOWN) */
#define QUICC_R_INTERNAL_ERROR 15
#define QUICC_R_NOT_CONNECTED 16
#define QUICC_R_BAD_WRITE_RETRY 17
#define QUICC_R_DEFAULT_STREAM_EXISTS 18
#define QUICC_R_KEY_UPDATE_PENDING 19
#define QUICC_R_NO_SESSION 20
#define QUICC_R_STREAM_SEND_ONLY 21 /* reading a send-only stream */
#define QUICC_R_NO_EARLY_DATA 22    /* quicc_write_early_data: 0-RTT is not possible */
/* Pops the oldest error of this thread: (reason << 0); 0 when empty. */
unsigned long quicc_err_get(void);
/* Peeks at it without removing. */
unsigned long quicc_err_peek(void);
void quicc_err_clear(void);
/* Text of a reason code, and the detail string recorded with the last popped error. */
const char *quicc_err_reason_string(unsigned long e);
/* Detail text recorded with the error last popped by quicc_err_get(). */
const char *quicc_err_detail(void);
/* Writes the whole queue to a FILE* (as a void* to avoid including stdio.h) and clears it. */
void quicc_err_print(void *fp);

/* ---- Shutdown and close information ---- */

#define QUICC_SHUTDOWN_FLAG_RAPID (1u << 0)
#define QUICC_SHUTDOWN_FLAG_NO_STREAM_FLUSH (1u << 1)
#define QUICC_SHUTDOWN_FLAG_NO_BLOCK (1u << 2)
#define QUICC_SHUTDOWN_FLAG_WAIT_PEER (1u << 3)
typedef struct quicc_shutdown_ex_args {
    uint64_t quic_error_code;
    const char *quic_reason;
} quicc_shutdown_ex_args;
/* Returns 1 when closed, 0 while in progress (nonblocking), -1 on error. */
int quicc_shutdown(quicc *conn);
int quicc_shutdown_ex(quicc *conn, uint64_t flags, const quicc_shutdown_ex_args *args);

#define QUICC_CONN_CLOSE_FLAG_LOCAL (1u << 0)
#define QUICC_CONN_CLOSE_FLAG_TRANSPORT (1u << 1)
typedef struct quicc_conn_close_info {
    uint64_t error_code;
    uint64_t frame_type;
    const char *reason; /* may contain NUL; valid while the connection lives */
    size_t reason_len;
    uint32_t flags;
} quicc_conn_close_info;
int quicc_get_conn_close_info(quicc *conn, quicc_conn_close_info *info);

/* ---- Values (like SSL_get_value_uint / SSL_set_value_uint) ---- */

/* Idle timeout in ms (set before connecting; 0 = none). */
int quicc_set_idle_timeout(quicc *conn, uint64_t ms);

#define QUICC_VALUE_CLASS_GENERIC 0
#define QUICC_VALUE_CLASS_FEATURE_REQUEST 1
#define QUICC_VALUE_CLASS_FEATURE_PEER_REQUEST 2
#define QUICC_VALUE_CLASS_FEATURE_NEGOTIATED 3

/* OpenSSL's identifiers and numbers (SSL_VALUE_*). */
#define QUICC_VALUE_QUIC_STREAM_BIDI_LOCAL_AVAIL 1  /* streams we may still open */
#define QUICC_VALUE_QUIC_STREAM_BIDI_REMOTE_AVAIL 2 /* streams the peer may still open */
#define QUICC_VALUE_QUIC_STREAM_UNI_LOCAL_AVAIL 3
#define QUICC_VALUE_QUIC_STREAM_UNI_REMOTE_AVAIL 4
#define QUICC_VALUE_QUIC_IDLE_TIMEOUT 5   /* ms; FEATURE_* classes */
#define QUICC_VALUE_EVENT_HANDLING_MODE 6 /* QUICC_EVENT_HANDLING_MODE_* */
#define QUICC_VALUE_STREAM_WRITE_BUF_SIZE 7
#define QUICC_VALUE_STREAM_WRITE_BUF_USED 8
#define QUICC_VALUE_STREAM_WRITE_BUF_AVAIL 9
/* quicc's own, from 0x1000 so that OpenSSL's future numbers never collide.
 * Listener statistics: stateless packets sent and datagrams dropped. */
#define QUICC_VALUE_LISTENER_RETRY_SENT 0x1000
#define QUICC_VALUE_LISTENER_RESETS_SENT 0x1001
#define QUICC_VALUE_LISTENER_VN_SENT 0x1002
#define QUICC_VALUE_LISTENER_DROPPED 0x1003
/* Handshakes in progress, and those shed to make room (the oldest first) when every slot was
 * taken. One address holds at most 16 of the slots; a handshake has 10 s to complete. */
#define QUICC_VALUE_LISTENER_HANDSHAKES 0x1004
#define QUICC_VALUE_LISTENER_SHED 0x1005
/* Key updates so far (ours and the peer's). */
#define QUICC_VALUE_QUIC_KEY_UPDATES 0x1010
/* Connection statistics: packets sent, received, declared lost; the smoothed and minimum
 * RTT in microseconds; the congestion window in bytes. */
#define QUICC_VALUE_CONN_PACKETS_SENT 0x1020
#define QUICC_VALUE_CONN_PACKETS_RECEIVED 0x1021
#define QUICC_VALUE_CONN_PACKETS_LOST 0x1022
#define QUICC_VALUE_CONN_SMOOTHED_RTT_US 0x1023
#define QUICC_VALUE_CONN_MIN_RTT_US 0x1024
#define QUICC_VALUE_CONN_CWND 0x1025
/* ECN (RFC 9000 §13.4): whether our ECT(0) marks are validated on the path (a
 * QUICC_ECN_STATE_*), the packets that arrived ECT(0) and CE-marked, and the CE marks the
 * peer reported for ours (each a congestion signal). */
#define QUICC_VALUE_CONN_ECN_STATE 0x1026
#define QUICC_VALUE_CONN_ECN_ECT0_RECEIVED 0x1027
#define QUICC_VALUE_CONN_ECN_CE_RECEIVED 0x1028
#define QUICC_VALUE_CONN_ECN_CE_REPORTED 0x1029
/* Bytes of 0-RTT packets this side sent (a client) or received (a server). */
#define QUICC_VALUE_CONN_0RTT_SENT 0x102a
#define QUICC_VALUE_CONN_0RTT_RECEIVED 0x102b
/* A server's moves to a new client address (NAT rebinding, migration; RFC 9000 §9), and
 * the new paths that failed validation (the connection went back to the old one). */
#define QUICC_VALUE_CONN_PATH_MIGRATIONS 0x102c
#define QUICC_VALUE_CONN_PATH_VALIDATION_FAILURES 0x102d
#define QUICC_ECN_STATE_TESTING 0  /* marking, not yet confirmed */
#define QUICC_ECN_STATE_CAPABLE 1  /* marking; the peer's counts match */
#define QUICC_ECN_STATE_FAILED 2   /* not marking: the path loses or bleaches the marks */
#define QUICC_ECN_STATE_DISABLED 3 /* not marking, by configuration */

/* Implicit: every I/O call also processes network events (the default). Explicit:
 * nonblocking I/O calls touch only buffers; quicc_handle_events does the network work. */
#define QUICC_EVENT_HANDLING_MODE_INHERIT 0
#define QUICC_EVENT_HANDLING_MODE_IMPLICIT 1
#define QUICC_EVENT_HANDLING_MODE_EXPLICIT 2

int quicc_get_value_uint(quicc *s, uint32_t class_, uint32_t id, uint64_t *value);
int quicc_set_value_uint(quicc *s, uint32_t class_, uint32_t id, uint64_t value);

/* ---- Development certificates (a quicc extension) ---- */

/*
 * Writes a new self-signed server certificate (ECDSA P-256, CA:FALSE, serverAuth) and its
 * key to cert_path and key_path (PEM; the key file mode 0600). Each of the nnames names is a
 * DNS name or an IPv4/IPv6 address and goes into the subject alternative names; the first
 * DNS name is also the subject's common name. Valid from an hour ago for valid_days days. Returns
 * 1, or 0 with the reason on the error queue: QUICC_R_PASSED_INVALID_ARGUMENT (a NULL path, no
 * names, a name that is neither, valid_days 0 or past 36500) or QUICC_R_INTERNAL_ERROR (GnuTLS
 * failed, or a file cannot be written; quicc_err_detail() says which).
 */
int quicc_generate_self_signed_cert(const char *cert_path, const char *key_path,
                                    const char *const *names, size_t nnames, unsigned valid_days);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
