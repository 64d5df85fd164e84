/*
 * quicc_h3.h: HTTP/3 (RFC 9114) over a quicc connection, client and server,
 * the layer quicc-client and quicc-server use. libquicc implements it with
 * nghttp3; this header does not include nghttp3's.
 *
 * The connection must be connected (client) or accepted (server), in
 * nonblocking mode, with default stream mode QUICC_DEFAULT_STREAM_MODE_NONE
 * (servers: incoming stream policy ACCEPT). The HTTP/3 object opens the
 * control and QPACK streams, accepts the peer's, and runs requests on
 * bidirectional streams. Drive it with quicc_h3_pump() (quicc_h3_server_pump())
 * after quicc_handle_events(); response bodies are handed to the request's
 * callbacks as they arrive. The manual: man 3 quicc_h3.
 */
#ifndef QUICC_H3_H
#define QUICC_H3_H

#include <quicc.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

typedef struct quicc_h3 quicc_h3;

/* The version of nghttp3 the HTTP/3 layer runs with ("0.8.0"). */
const char *quicc_h3_version(void);

typedef struct quicc_h3_request_cbs {
    void *user;
    /* Response body bytes. Return 0, or nonzero to abort the request. */
    int (*on_body)(void *user, const uint8_t *data, size_t len);
    /* The request ended: status is the HTTP status (0 if none arrived); error is 0 when the
     * response arrived complete, else an HTTP/3 or QUIC application error code, or -1. */
    void (*on_done)(void *user, int status, int64_t error);
} quicc_h3_request_cbs;

/* Creates the HTTP/3 client session on conn. Returns NULL on failure (error queue). */
quicc_h3 *quicc_h3_client_new(quicc *conn);
void quicc_h3_free(quicc_h3 *h);
/*
 * Starts a GET request for https://authority/path. Returns 0, 1 when the
 * peer's stream limit allows no new stream now (try again later), or -1 on
 * failure.
 */
int quicc_h3_submit_get(quicc_h3 *h, const char *authority, const char *path,
                        const quicc_h3_request_cbs *cbs);
/*
 * Moves data between quicc and nghttp3: reads every stream, writes what
 * nghttp3 has to send. Returns 1 if anything progressed, 0 if not, -1 when
 * the HTTP/3 session failed (the connection is closed with the H3 error).
 */
int quicc_h3_pump(quicc_h3 *h);
/* Requests submitted and not yet done. */
size_t quicc_h3_active(const quicc_h3 *h);
/* Why the session failed (after quicc_h3_pump returned -1). */
const char *quicc_h3_error(const quicc_h3 *h);

/*
 * An HTTP/3 server session on an accepted connection (nonblocking, default
 * stream mode NONE, incoming policy ACCEPT): answers GET requests with the
 * files under root (404 for anything else), read with pread() in 64 KiB pieces freed as
 * nghttp3 is done with them. A response sends exactly the size the file had when the request
 * came; a file that shrinks meanwhile ends that stream with a reset (H3_INTERNAL_ERROR), and
 * the other streams go on.
 */
typedef struct quicc_h3 quicc_h3_server;
quicc_h3_server *quicc_h3_server_new(quicc *conn, const char *root);
/* Like quicc_h3_pump: 1 progress, 0 none, -1 the session failed. */
int quicc_h3_server_pump(quicc_h3_server *h);
/* Requests answered with 200 and body bytes written so far. */
void quicc_h3_server_stats(const quicc_h3_server *h, uint64_t *requests, uint64_t *bytes);
void quicc_h3_server_free(quicc_h3_server *h);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
