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
    /* Each response header as it arrives, ":status" first (NULL: not wanted). */
    void (*on_header)(void *user, const char *name, size_t name_len, const char *value,
                      size_t value_len);
} quicc_h3_request_cbs;

/* A request header: the name in lower case (HTTP/3 requires it). */
typedef struct quicc_h3_header {
    const char *name, *value;
} quicc_h3_header;

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
 * The same for any method (without a request body: GET, HEAD, DELETE, OPTIONS...), with up
 * to 64 more headers (a "user-agent" among them replaces quicc's). Returns as
 * quicc_h3_submit_get, -1 also for a NULL argument.
 */
int quicc_h3_submit_request(quicc_h3 *h, const char *method, const char *authority,
                            const char *path, const quicc_h3_header *headers, size_t nheaders,
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
 * An HTTP/3 server session on an accepted connection (nonblocking, default stream mode NONE,
 * incoming policy ACCEPT): answers each request with the files under root as
 * quicc_h3_file_lookup says (GET, HEAD, Range; 400, 403, 404, 405, 416), read with pread()
 * in 64 KiB pieces freed as nghttp3 is done with them. A response sends exactly the bytes
 * its Content-Length announced; a file that shrinks meanwhile ends that stream with a reset
 * (H3_INTERNAL_ERROR), and the other streams go on.
 */
typedef struct quicc_h3 quicc_h3_server;
quicc_h3_server *quicc_h3_server_new(quicc *conn, const char *root);
/* Like quicc_h3_pump: 1 progress, 0 none, -1 the session failed. */
int quicc_h3_server_pump(quicc_h3_server *h);
/* One answered request, for an access log: called once each, when its response has been
 * sent (or cut off: error is the reset code, or -1 when the connection ended first). */
typedef struct quicc_h3_request_info {
    const char *method, *path; /* as received ("-" if none) */
    int status;
    uint64_t bytes;       /* body bytes sent */
    uint64_t duration_us; /* from the request's first header to the end of the response */
    int64_t error;
} quicc_h3_request_info;
typedef void (*quicc_h3_request_log_cb)(void *user, const quicc_h3_request_info *info);
void quicc_h3_server_set_log_cb(quicc_h3_server *h, quicc_h3_request_log_cb cb, void *user);
/* Requests answered with a file (200, 206) and body bytes written so far. */
void quicc_h3_server_stats(const quicc_h3_server *h, uint64_t *requests, uint64_t *bytes);
void quicc_h3_server_free(quicc_h3_server *h);

/*
 * ---- Static files ----
 *
 * What a static file server answers for an HTTP request: quicc_h3_server uses it, and so can
 * any mapping of HTTP onto streams (quicc-server's HTTP/1.0 and HTTP/0.9 do). The target is
 * percent-decoded and confined to root (a "." or ".." segment is 400; a symbolic link leading
 * out of root is 403 unless QUICC_H3_FILE_FOLLOW_SYMLINKS), a directory serves its
 * index.html; GET and HEAD only (405 otherwise, with "Allow: GET, HEAD"); a single byte
 * range ("bytes=a-b", "a-", "-n") gives 206, an unsatisfiable one 416, several or a
 * malformed one the whole file (200). A file that cannot be read is 403, a missing one 404.
 */
#define QUICC_H3_FILE_FOLLOW_SYMLINKS 1u
typedef struct quicc_file_reply {
    int status;               /* 200, 206, 400, 403, 404, 405, 416 or 500 */
    int fd;                   /* 200/206: the open file (the caller closes it); else -1 */
    int head;                 /* HEAD: send the headers only */
    uint64_t offset, length;  /* the bytes to send (length: Content-Length) */
    uint64_t size;            /* the file's size */
    const char *content_type; /* from the file name; text/plain for an error */
    char last_modified[40];   /* IMF-fixdate ("Tue, 01 Dec 2026 10:00:00 GMT"), or "" */
    char content_range[80];   /* 206: "bytes a-b/size"; 416: "bytes *\/size"; else "" */
} quicc_file_reply;
/* Fills r. Returns 1, or 0 (status 500) for a NULL argument. */
int quicc_h3_file_lookup(const char *root, const char *method, const char *target,
                         const char *range, unsigned flags, quicc_file_reply *r);
/* The Content-Type for a file name by its extension (application/octet-stream if unknown),
 * and the reason phrase of a status quicc_h3_file_lookup gives. */
const char *quicc_h3_content_type(const char *name);
const char *quicc_h3_status_text(int status);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif
