/*
 * h3.h: an HTTP/3 client over a quicc connection, using nghttp3 (the only
 * code in quicc that includes nghttp3). The connection must be connected,
 * in nonblocking mode, with default stream mode NONE; the HTTP/3 object
 * opens the control and QPACK streams, accepts the server's, and runs
 * requests on bidirectional streams.
 *
 * Drive it with qc_h3_pump() after quicc_handle_events(); response bodies
 * are handed to the request's callbacks as they arrive.
 */
#ifndef QC_H3_H
#define QC_H3_H

#include "quicc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qc_h3 qc_h3;

typedef struct qc_h3_request_cbs {
    void *user;
    /* Response body bytes. Return 0, or nonzero to abort the request. */
    int (*on_body)(void *user, const uint8_t *data, size_t len);
    /* The request ended: status is the HTTP status (0 if none arrived); error is 0 when the
     * response arrived complete, else an HTTP/3 or QUIC application error code, or -1. */
    void (*on_done)(void *user, int status, int64_t error);
} qc_h3_request_cbs;

/* Creates the HTTP/3 client session on conn. Returns NULL on failure (error queue). */
qc_h3 *qc_h3_client_new(quicc *conn);
void qc_h3_free(qc_h3 *h);
/*
 * Starts a GET request for https://authority/path. Returns 0, 1 when the
 * peer's stream limit allows no new stream now (try again later), or -1 on
 * failure.
 */
int qc_h3_submit_get(qc_h3 *h, const char *authority, const char *path,
                     const qc_h3_request_cbs *cbs);
/*
 * Moves data between quicc and nghttp3: reads every stream, writes what
 * nghttp3 has to send. Returns 1 if anything progressed, 0 if not, -1 when
 * the HTTP/3 session failed (the connection is closed with the H3 error).
 */
int qc_h3_pump(qc_h3 *h);
/* Requests submitted and not yet done. */
size_t qc_h3_active(const qc_h3 *h);
/* Why the session failed (after qc_h3_pump returned -1). */
const char *qc_h3_error(const qc_h3 *h);

/*
 * An HTTP/3 server session on an accepted connection (nonblocking, default
 * stream mode NONE, incoming policy ACCEPT): answers GET requests with the
 * files under root (404 for anything else), read with pread() in 64 KiB pieces freed as
 * nghttp3 is done with them. A response sends exactly the size the file had when the request
 * came; a file that shrinks meanwhile ends that stream with a reset (H3_INTERNAL_ERROR), and
 * the other streams go on.
 */
typedef struct qc_h3 qc_h3_server;
qc_h3_server *qc_h3_server_new(quicc *conn, const char *root);
/* Like qc_h3_pump: 1 progress, 0 none, -1 the session failed. */
int qc_h3_server_pump(qc_h3_server *h);
/* Requests answered with 200 and body bytes written so far. */
void qc_h3_server_stats(const qc_h3_server *h, uint64_t *requests, uint64_t *bytes);
void qc_h3_server_free(qc_h3_server *h);

#endif
