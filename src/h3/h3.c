/*
 * h3.c: HTTP/3 over quicc streams, client and server (include/quicc_h3.h). nghttp3 frames
 * requests and parses responses; this file moves bytes between nghttp3 and
 * the quicc stream objects, and maps nghttp3's callbacks to the request
 * callbacks. quicc copies written data, so everything written is reported
 * to nghttp3 as acknowledged at once.
 */
#include "quicc_h3.h"

#include "core/common.h"

#include <fcntl.h>
#include <nghttp3/nghttp3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *quicc_h3_version(void) {
    const nghttp3_info *info = nghttp3_version(0);
    return info ? info->version_str : "?";
}

typedef struct h3_stream {
    int64_t id;
    quicc *obj;
    bool read_done;  /* FIN or reset seen on the receiving part (or none) */
    bool write_done; /* FIN written (or no sending part) */
    bool is_request;
    bool blocked;  /* blocked in nghttp3 while quicc's send buffer is full */
    bool finished; /* request completed (on_done called) */
    int status;
    quicc_h3_request_cbs cbs;
    struct h3_stream *next;
    /* Server: the request and the file being sent */
    char path[1024];
    char method[16];
    char range[64];
    int fd;                      /* the file being sent, or -1 */
    uint64_t file_end, file_off; /* the end of the bytes to send (Content-Length) and what went */
    char err_body[64];           /* the text of an error response */
    size_t err_len;
    struct h3_chunk *chunks, *chunks_tail; /* read, not yet acknowledged to nghttp3 */
    bool file_failed;                      /* the file shrank or failed: the stream is reset */
    bool responded;
    bool logged;
    int resp_status;     /* the status answered */
    uint64_t body_start; /* the first byte of the file sent */
    int64_t error;       /* the reset that cut the response, or 0 */
    struct timespec t0;  /* the request's first header */
} h3_stream;

/* A piece of a file handed to nghttp3, kept until nghttp3 says it is done with it. */
typedef struct h3_chunk {
    struct h3_chunk *next;
    size_t len, acked;
    uint8_t data[];
} h3_chunk;

struct quicc_h3 {
    bool server;
    const char *root;
    quicc_h3_request_log_cb log_cb;
    void *log_user;
    uint64_t requests, bytes;
    quicc *conn;
    nghttp3_conn *h3;
    h3_stream *streams;
    size_t active;
    bool failed;
    char error[160];
    uint8_t buf[65536];
};

static h3_stream *find(quicc_h3 *h, int64_t id) {
    for (h3_stream *s = h->streams; s; s = s->next)
        if (s->id == id) return s;
    return NULL;
}

static h3_stream *add_stream(quicc_h3 *h, quicc *obj) {
    h3_stream *s = qc_calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->obj = obj;
    s->fd = -1;
    s->id = (int64_t)quicc_get_stream_id(obj);
    int type = quicc_get_stream_type(obj);
    s->read_done = type == QUICC_STREAM_TYPE_WRITE;
    s->write_done = type == QUICC_STREAM_TYPE_READ;
    s->next = h->streams;
    h->streams = s;
    return s;
}

static void fail(quicc_h3 *h, int64_t code, const char *fmt, const char *detail) {
    if (h->failed) return;
    h->failed = true;
    snprintf(h->error, sizeof(h->error), fmt, detail);
    quicc_shutdown_ex_args args = {.quic_error_code = (uint64_t)code, .quic_reason = h->error};
    quicc_shutdown_ex(h->conn, QUICC_SHUTDOWN_FLAG_RAPID | QUICC_SHUTDOWN_FLAG_NO_STREAM_FLUSH,
                      &args);
}

static void finish_request(quicc_h3 *h, h3_stream *s, int64_t error) {
    if (!s->is_request || s->finished) return;
    s->finished = true;
    h->active--;
    if (s->cbs.on_done) s->cbs.on_done(s->cbs.user, s->status, error);
}

/* ---- nghttp3 callbacks ---- */

static int cb_recv_header(nghttp3_conn *conn, int64_t sid, int32_t token, nghttp3_rcbuf *name,
                          nghttp3_rcbuf *value, uint8_t flags, void *user, void *suser) {
    quicc_h3 *h = user;
    h3_stream *s = suser ? suser : (h->server ? find(h, sid) : NULL);
    if (s && h->server) {
        if (!s->t0.tv_sec && !s->t0.tv_nsec) clock_gettime(CLOCK_MONOTONIC, &s->t0);
        nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
        if (token == NGHTTP3_QPACK_TOKEN__PATH && v.len < sizeof(s->path)) {
            memcpy(s->path, v.base, v.len);
            s->path[v.len] = 0;
        } else if (token == NGHTTP3_QPACK_TOKEN__METHOD && v.len < sizeof(s->method)) {
            memcpy(s->method, v.base, v.len);
            s->method[v.len] = 0;
        } else if (token == NGHTTP3_QPACK_TOKEN_RANGE && v.len < sizeof(s->range)) {
            memcpy(s->range, v.base, v.len);
            s->range[v.len] = 0;
        }
        return 0;
    }
    if (s && token == NGHTTP3_QPACK_TOKEN__STATUS) {
        nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
        int st = 0;
        for (size_t i = 0; i < v.len && i < 3; i++)
            st = st * 10 + (v.base[i] - '0');
        s->status = st;
    }
    if (s && s->cbs.on_header) {
        nghttp3_vec n = nghttp3_rcbuf_get_buf(name), v = nghttp3_rcbuf_get_buf(value);
        s->cbs.on_header(s->cbs.user, (const char *)n.base, n.len, (const char *)v.base, v.len);
    }
    return 0;
}

static int cb_recv_data(nghttp3_conn *conn, int64_t sid, const uint8_t *data, size_t len,
                        void *user, void *suser) {
    h3_stream *s = suser;
    if (s && s->cbs.on_body && s->cbs.on_body(s->cbs.user, data, len) != 0)
        return NGHTTP3_ERR_CALLBACK_FAILURE;
    return 0;
}

static int server_respond(quicc_h3 *h, h3_stream *s);

static int cb_end_stream(nghttp3_conn *conn, int64_t sid, void *user, void *suser) {
    quicc_h3 *h = user;
    h3_stream *s = suser ? suser : (h->server ? find(h, sid) : NULL);
    if (s && h->server) return server_respond(h, s);
    if (s) finish_request(user, s, 0);
    return 0;
}

static int cb_stream_close(nghttp3_conn *conn, int64_t sid, uint64_t code, void *user,
                           void *suser) {
    h3_stream *s = suser;
    if (s && !s->finished) finish_request(user, s, code ? (int64_t)code : -1);
    return 0;
}

static int cb_reset_stream(nghttp3_conn *conn, int64_t sid, uint64_t code, void *user,
                           void *suser) {
    h3_stream *s = find(user, sid);
    if (s && !s->write_done) {
        quicc_stream_reset(s->obj, code);
        s->write_done = true;
    }
    return 0;
}

static int cb_stop_sending(nghttp3_conn *conn, int64_t sid, uint64_t code, void *user,
                           void *suser) {
    return 0; /* the stream object's release sends STOP_SENDING for unread data */
}

/* nghttp3 is done with len more bytes of the stream's body: free the chunks they were in. */
static int cb_acked(nghttp3_conn *conn, int64_t sid, uint64_t len, void *user, void *suser) {
    h3_stream *s = suser;
    while (s && len > 0 && s->chunks) {
        h3_chunk *c = s->chunks;
        uint64_t left = c->len - c->acked;
        if (len < left) {
            c->acked += (size_t)len;
            break;
        }
        len -= left;
        s->chunks = c->next;
        if (!s->chunks) s->chunks_tail = NULL;
        qc_free(c);
    }
    return 0;
}

static quicc_h3 *h3_new(quicc *conn, bool server, const char *root) {
    quicc_h3 *h = qc_calloc(1, sizeof(*h));
    if (!h) return NULL;
    h->conn = conn;
    h->server = server;
    h->root = root;
    nghttp3_callbacks cbs = {
        .acked_stream_data = cb_acked,
        .stream_close = cb_stream_close,
        .recv_data = cb_recv_data,
        .recv_header = cb_recv_header,
        .end_stream = cb_end_stream,
        .stop_sending = cb_stop_sending,
        .reset_stream = cb_reset_stream,
    };
    nghttp3_settings settings;
    nghttp3_settings_default(&settings);
    settings.qpack_max_dtable_capacity = 4096;
    settings.qpack_blocked_streams = 100;
    int rv = server ? nghttp3_conn_server_new(&h->h3, &cbs, &settings, nghttp3_mem_default(), h)
                    : nghttp3_conn_client_new(&h->h3, &cbs, &settings, nghttp3_mem_default(), h);
    if (rv != 0) {
        qc_free(h);
        return NULL;
    }
    quicc *ctrl = quicc_new_stream(conn, QUICC_STREAM_FLAG_UNI | QUICC_STREAM_FLAG_NO_BLOCK);
    quicc *enc = quicc_new_stream(conn, QUICC_STREAM_FLAG_UNI | QUICC_STREAM_FLAG_NO_BLOCK);
    quicc *dec = quicc_new_stream(conn, QUICC_STREAM_FLAG_UNI | QUICC_STREAM_FLAG_NO_BLOCK);
    if (!ctrl || !enc || !dec) {
        quicc_free(ctrl);
        quicc_free(enc);
        quicc_free(dec);
        nghttp3_conn_del(h->h3);
        qc_free(h);
        return NULL;
    }
    h3_stream *c = add_stream(h, ctrl), *e = add_stream(h, enc), *d = add_stream(h, dec);
    if (!c || !e || !d || nghttp3_conn_bind_control_stream(h->h3, c->id) != 0 ||
        nghttp3_conn_bind_qpack_streams(h->h3, e->id, d->id) != 0) {
        quicc_h3_free(h);
        return NULL;
    }
    return h;
}

quicc_h3 *quicc_h3_client_new(quicc *conn) {
    return h3_new(conn, false, NULL);
}

static void stream_free(h3_stream *s) {
    if (s->fd >= 0) close(s->fd);
    while (s->chunks) {
        h3_chunk *c = s->chunks;
        s->chunks = c->next;
        qc_free(c);
    }
    quicc_free(s->obj);
    qc_free(s);
}

/* The access log's entry of a server request, once (quicc_h3_server_set_log_cb). */
static void log_request(quicc_h3 *h, h3_stream *s) {
    if (!h->log_cb || s->logged || !s->responded) return;
    s->logged = true;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    quicc_h3_request_info info = {
        .method = s->method[0] ? s->method : "-",
        .path = s->path[0] ? s->path : "-",
        .status = s->resp_status,
        .bytes = s->fd >= 0 ? s->file_off - s->body_start : s->err_len,
        .duration_us =
            (uint64_t)((t.tv_sec - s->t0.tv_sec) * 1000000LL + (t.tv_nsec - s->t0.tv_nsec) / 1000),
        .error = s->error,
    };
    h->log_cb(h->log_user, &info);
}

void quicc_h3_server_set_log_cb(quicc_h3_server *h, quicc_h3_request_log_cb cb, void *user) {
    h->log_cb = cb;
    h->log_user = user;
}

void quicc_h3_free(quicc_h3 *h) {
    if (!h) return;
    h3_stream *s = h->streams;
    while (s) {
        h3_stream *n = s->next;
        if (h->server && s->is_request && s->responded) {
            if (!s->write_done && !s->error) s->error = -1; /* the connection ended first */
            log_request(h, s);
        }
        stream_free(s);
        s = n;
    }
    nghttp3_conn_del(h->h3);
    qc_free(h);
}

int quicc_h3_submit_request(quicc_h3 *h, const char *method, const char *authority,
                            const char *path, const quicc_h3_header *headers, size_t nheaders,
                            const quicc_h3_request_cbs *cbs) {
    if (h->failed || !method || !authority || !path || !cbs || (nheaders && !headers) ||
        nheaders > 64)
        return -1;
    quicc *obj = quicc_new_stream(h->conn, QUICC_STREAM_FLAG_NO_BLOCK);
    if (!obj) {
        unsigned long e = quicc_err_get();
        return e == QUICC_R_STREAM_COUNT_LIMITED ? 1 : -1;
    }
    h3_stream *s = add_stream(h, obj);
    if (!s) {
        quicc_free(obj);
        return -1;
    }
    s->is_request = true;
    s->cbs = *cbs;
    const char *names[70] = {":method", ":scheme", ":authority", ":path", "user-agent"};
    const char *values[70] = {method, "https", authority, path,
                              "quicc-client/" QUICC_VERSION_STRING};
    size_t n = 5;
    for (size_t i = 0; i < nheaders; i++) {
        if (!strcmp(headers[i].name, "user-agent")) {
            values[4] = headers[i].value; /* the caller's replaces ours */
            continue;
        }
        names[n] = headers[i].name;
        values[n++] = headers[i].value;
    }
    nghttp3_nv nva[70];
    for (size_t i = 0; i < n; i++)
        nva[i] = (nghttp3_nv){(uint8_t *)names[i], (uint8_t *)values[i], strlen(names[i]),
                              strlen(values[i]), NGHTTP3_NV_FLAG_NONE};
    if (nghttp3_conn_submit_request(h->h3, s->id, nva, n, NULL, s) != 0) return -1;
    h->active++;
    return 0;
}

int quicc_h3_submit_get(quicc_h3 *h, const char *authority, const char *path,
                        const quicc_h3_request_cbs *cbs) {
    return quicc_h3_submit_request(h, "GET", authority, path, NULL, 0, cbs);
}

size_t quicc_h3_active(const quicc_h3 *h) {
    return h->active;
}
const char *quicc_h3_error(const quicc_h3 *h) {
    return h->error;
}

/* Reads everything readable on s and feeds nghttp3. */
static int read_stream(quicc_h3 *h, h3_stream *s, bool *progress) {
    for (int rounds = 0; rounds < 64 && !s->read_done; rounds++) {
        size_t n = 0;
        if (quicc_read_ex(s->obj, h->buf, sizeof(h->buf), &n)) {
            nghttp3_ssize r = nghttp3_conn_read_stream(h->h3, s->id, h->buf, n, 0);
            if (r < 0) {
                fail(h, (int64_t)nghttp3_err_infer_quic_app_error_code((int)r), "HTTP/3 error: %s",
                     nghttp3_strerror((int)r));
                return -1;
            }
            *progress = true;
            continue;
        }
        int err = quicc_get_error(s->obj, 0);
        if (err == QUICC_ERROR_WANT_READ) return 0;
        s->read_done = true;
        *progress = true;
        if (err == QUICC_ERROR_ZERO_RETURN) {
            nghttp3_ssize r = nghttp3_conn_read_stream(h->h3, s->id, NULL, 0, 1);
            if (r < 0) {
                fail(h, (int64_t)nghttp3_err_infer_quic_app_error_code((int)r), "HTTP/3 error: %s",
                     nghttp3_strerror((int)r));
                return -1;
            }
            return 0;
        }
        /* Reset by the peer or the connection failed. */
        uint64_t code = 0;
        int rc = quicc_get_stream_read_error_code(s->obj, &code);
        quicc_err_clear();
        if (s->is_request)
            finish_request(h, s, rc == 1 ? (int64_t)code : -1);
        else if (!s->is_request && rc == 1) {
            /* A critical (control/QPACK) stream must never close. */
            fail(h, 0x104, "%s", "HTTP/3 critical stream closed");
            return -1;
        }
        nghttp3_conn_close_stream(h->h3, s->id, rc == 1 ? code : 0);
        return 0;
    }
    return 0;
}

static int write_streams(quicc_h3 *h, bool *progress) {
    for (int rounds = 0; rounds < 1024; rounds++) {
        int64_t sid = -1;
        int fin = 0;
        nghttp3_vec vec[16];
        nghttp3_ssize nv = nghttp3_conn_writev_stream(h->h3, &sid, &fin, vec, 16);
        if (nv < 0) {
            fail(h, (int64_t)nghttp3_err_infer_quic_app_error_code((int)nv), "HTTP/3 error: %s",
                 nghttp3_strerror((int)nv));
            return -1;
        }
        if (sid < 0) return 0;
        h3_stream *s = find(h, sid);
        if (!s) return 0;
        size_t total = 0, want = 0;
        for (nghttp3_ssize i = 0; i < nv; i++)
            want += vec[i].len;
        uint64_t avail = 0;
        if (!quicc_get_value_uint(s->obj, QUICC_VALUE_CLASS_GENERIC,
                                  QUICC_VALUE_STREAM_WRITE_BUF_AVAIL, &avail)) {
            quicc_err_clear();
            avail = 0;
        }
        for (nghttp3_ssize i = 0; i < nv && avail > 0; i++) {
            size_t len = vec[i].len < avail ? vec[i].len : (size_t)avail;
            bool last = (size_t)i == (size_t)nv - 1 && len == vec[i].len;
            size_t w = 0;
            if (!quicc_write_ex2(s->obj, vec[i].base, len,
                                 fin && last ? QUICC_WRITE_FLAG_CONCLUDE : 0, &w)) {
                quicc_err_clear();
                break;
            }
            total += w;
            avail -= w;
            if (w < vec[i].len) break;
        }
        if (fin && nv == 0 && want == 0) {
            if (quicc_stream_conclude(s->obj, 0))
                s->write_done = true;
            else
                quicc_err_clear();
        }
        if (total == want && fin) s->write_done = true;
        if (total > 0 || (fin && s->write_done)) {
            nghttp3_conn_add_write_offset(h->h3, sid, total);
            nghttp3_conn_add_ack_offset(h->h3, sid, total);
            *progress = true;
        }
        if (total < want) {
            /* The stream's buffer is full: let nghttp3 serve the other streams meanwhile. */
            nghttp3_conn_block_stream(h->h3, sid);
            s->blocked = true;
        }
    }
    return 0;
}

int quicc_h3_pump(quicc_h3 *h) {
    if (h->failed) return -1;
    bool progress = false;
    for (;;) {
        quicc *in = quicc_accept_stream(h->conn, QUICC_ACCEPT_STREAM_NO_BLOCK);
        if (!in) {
            quicc_err_clear();
            break;
        }
        h3_stream *ns = add_stream(h, in);
        if (!ns) {
            quicc_free(in);
            return -1;
        }
        if (h->server && quicc_get_stream_type(in) == QUICC_STREAM_TYPE_BIDI) {
            ns->is_request = true;
            h->active++;
        }
        progress = true;
    }
    for (h3_stream *s = h->streams; s; s = s->next)
        if (!s->read_done && read_stream(h, s, &progress) < 0) return -1;
    for (h3_stream *s = h->streams; s; s = s->next) {
        uint64_t avail = 0;
        if (!s->blocked) continue;
        if (!quicc_get_value_uint(s->obj, QUICC_VALUE_CLASS_GENERIC,
                                  QUICC_VALUE_STREAM_WRITE_BUF_AVAIL, &avail))
            quicc_err_clear();
        if (avail > 0) {
            s->blocked = false;
            nghttp3_conn_unblock_stream(h->h3, s->id);
        }
    }
    if (write_streams(h, &progress) < 0) return -1;
    /* A file that shrank or failed while it was sent: the response ends with a reset
     * (H3_INTERNAL_ERROR), not a short body; the other streams go on. */
    for (h3_stream *s = h->streams; s; s = s->next)
        if (s->file_failed && !s->write_done) {
            quicc_stream_reset(s->obj, 0x102);
            quicc_err_clear();
            s->error = 0x102;
            s->write_done = true;
            progress = true;
        }
    /* Free finished request streams. */
    h3_stream **pp = &h->streams;
    while (*pp) {
        h3_stream *s = *pp;
        bool done = h->server ? (s->is_request && s->responded && s->write_done && s->read_done)
                              : (s->is_request && s->finished && s->read_done);
        if (done) {
            *pp = s->next;
            if (h->server) h->active--;
            if (h->server) log_request(h, s);
            nghttp3_conn_close_stream(h->h3, s->id, 0);
            stream_free(s);
            continue;
        }
        pp = &s->next;
    }
    return progress ? 1 : 0;
}

/* ---- server ---- */

static nghttp3_ssize read_file(nghttp3_conn *conn, int64_t sid, nghttp3_vec *vec, size_t veccnt,
                               uint32_t *pflags, void *user, void *suser) {
    h3_stream *s = suser;
    quicc_h3 *h = user;
    if (!s || veccnt == 0 || s->file_failed) return NGHTTP3_ERR_WOULDBLOCK;
    uint64_t left = s->file_end - s->file_off;
    size_t n = left < 65536 ? (size_t)left : 65536;
    if (n == 0) {
        *pflags |= NGHTTP3_DATA_FLAG_EOF;
        return 0;
    }
    /* Read, never map: a file truncated under us is a short read here, not a SIGBUS. */
    h3_chunk *c = qc_malloc(sizeof(*c) + n);
    ssize_t r = c ? pread(s->fd, c->data, n, (off_t)s->file_off) : -1;
    if (r <= 0) {
        qc_free(c);
        s->file_failed = true; /* the pump resets the stream */
        return NGHTTP3_ERR_WOULDBLOCK;
    }
    c->len = (size_t)r;
    c->acked = 0;
    c->next = NULL;
    if (s->chunks_tail)
        s->chunks_tail->next = c;
    else
        s->chunks = c;
    s->chunks_tail = c;
    vec[0].base = c->data;
    vec[0].len = c->len;
    s->file_off += c->len;
    h->bytes += c->len;
    if (s->file_off == s->file_end) *pflags |= NGHTTP3_DATA_FLAG_EOF;
    return 1;
}

static nghttp3_ssize read_error(nghttp3_conn *conn, int64_t sid, nghttp3_vec *vec, size_t veccnt,
                                uint32_t *pflags, void *user, void *suser) {
    h3_stream *s = suser;
    vec[0].base = (uint8_t *)s->err_body;
    vec[0].len = s->err_len;
    *pflags |= NGHTTP3_DATA_FLAG_EOF;
    return 1;
}

/* Answers a request with quicc_h3_file_lookup's reply: the status, Content-Type,
 * Content-Length, Last-Modified, Accept-Ranges, Content-Range, Allow; the bytes (not for
 * HEAD), or a one-line text for an error. */
static int server_respond(quicc_h3 *h, h3_stream *s) {
    if (s->responded) return 0;
    s->responded = true;
    nghttp3_conn_set_stream_user_data(h->h3, s->id, s); /* for read_data */
    quicc_file_reply r;
    quicc_h3_file_lookup(h->root, s->method, s->path, s->range[0] ? s->range : NULL, 0, &r);
    char status[8], len[32];
    snprintf(status, sizeof(status), "%d", r.status);
    s->resp_status = r.status;
    s->body_start = r.offset;
    nghttp3_data_reader dr = {.read_data = read_file};
    bool body = !r.head;
    if (r.fd >= 0) {
        s->fd = r.fd;
        s->file_off = r.offset;
        s->file_end = r.offset + r.length;
        snprintf(len, sizeof(len), "%llu", (unsigned long long)r.length);
        h->requests++;
        body = body && r.length > 0;
    } else {
        int n = snprintf(s->err_body, sizeof(s->err_body), "%d %s\n", r.status,
                         quicc_h3_status_text(r.status));
        s->err_len = (size_t)n;
        snprintf(len, sizeof(len), "%zu", s->err_len);
        if (r.head) s->err_len = 0; /* headers only; the access log counts no body */
        dr.read_data = read_error;
    }
    nghttp3_nv nva[8];
    size_t nv = 0;
    const char *names[8], *values[8];
    names[nv] = ":status", values[nv++] = status;
    names[nv] = "server", values[nv++] = "quicc-server/" QUICC_VERSION_STRING;
    names[nv] = "content-type", values[nv++] = r.content_type;
    names[nv] = "content-length", values[nv++] = len;
    if (r.last_modified[0]) names[nv] = "last-modified", values[nv++] = r.last_modified;
    if (r.status == 200 || r.status == 206) names[nv] = "accept-ranges", values[nv++] = "bytes";
    if (r.content_range[0]) names[nv] = "content-range", values[nv++] = r.content_range;
    if (r.status == 405) names[nv] = "allow", values[nv++] = "GET, HEAD";
    for (size_t i = 0; i < nv; i++)
        nva[i] = (nghttp3_nv){(uint8_t *)names[i], (uint8_t *)values[i], strlen(names[i]),
                              strlen(values[i]), NGHTTP3_NV_FLAG_NONE};
    int rv = nghttp3_conn_submit_response(h->h3, s->id, nva, nv, body ? &dr : NULL);
    return rv == 0 ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE;
}

quicc_h3_server *quicc_h3_server_new(quicc *conn, const char *root) {
    return h3_new(conn, true, root);
}
int quicc_h3_server_pump(quicc_h3_server *h) {
    return quicc_h3_pump(h);
}
void quicc_h3_server_free(quicc_h3_server *h) {
    quicc_h3_free(h);
}
void quicc_h3_server_stats(const quicc_h3_server *h, uint64_t *requests, uint64_t *bytes) {
    *requests = h->requests;
    *bytes = h->bytes;
}
