/*
 * stream_api.c: stream objects and data calls of the public API: new and
 * accepted streams, the default stream, the incoming-stream policy,
 * read/write (blocking and nonblocking, with OpenSSL's retry rules),
 * conclude, reset, and stream states.
 */
#include "api/api_internal.h"
#include "core/stream.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static bool conn_dead(const qc_api_conn *c) {
    return c->port->net_error || (c->engine && qc_conn_state(c->engine) >= QC_CONN_CLOSING);
}

/* Network work a data call does on the way: none for a nonblocking call in the explicit
 * event-handling mode (quicc_handle_events does it). Lock held. */
static void io_tick(quicc *s) {
    qc_api_touch(s->c);
    if (s->c->early_mode && !s->c->connected) {
        /* Before quicc_connect returns, a write only sends: what the application writes
         * then leaves in 0-RTT however fast the server answers (the answer is read by the
         * next call that drives the handshake). */
        qc_api_conn_flush(s->c, qc_api_now());
        return;
    }
    if (s->blocking || !s->c->explicit_events) qc_api_port_turn(s->c->port);
}

static void stream_free(quicc *st);
static const qc_api_obj_ops stream_ops = {.free = stream_free};

static quicc *stream_obj_new(quicc *conn, uint64_t sid) {
    quicc *st = qc_calloc(1, sizeof(*st));
    if (!st) {
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "out of memory");
        return NULL;
    }
    st->ops = &stream_ops;
    st->kind = QC_OBJ_STREAM;
    st->conn_obj = conn;
    st->c = conn->c;
    st->sid = sid;
    st->blocking = conn->blocking;
    conn->c->nstream_objs++;
    return st;
}

/* Ensures the handshake is done for a data call. Lock held. */
static bool ensure_connected(quicc *s) {
    quicc *conn = s->conn_obj;
    if (s->c->connected) return true;
    /* After quicc_write_early_data, streams work before the handshake, in 0-RTT. */
    if (s->c->early_mode && s->c->engine && qc_conn_early_possible(s->c->engine)) return true;
    bool saved = conn->blocking;
    conn->blocking = s->blocking;
    int r = qc_api_connect_locked(conn);
    conn->blocking = saved;
    s->last_error = conn->last_error;
    return r == 1;
}

/* An attempt to open (try_open) or accept (try_accept) a stream, for qc_api_block_until:
 * done once it worked, failed for good, or the connection is over. */
typedef struct {
    bool uni, advance;
    int rv; /* 0: sid is the stream; QC_ERR_STREAM_LIMIT: no credit / none yet */
    uint64_t sid;
} open_try;

static bool try_open(quicc *s, void *arg) {
    open_try *t = arg;
    t->rv = qc_conn_stream_open(s->c->engine, t->uni, t->advance, &t->sid);
    return t->rv != QC_ERR_STREAM_LIMIT || conn_dead(s->c);
}

static bool try_accept(quicc *s, void *arg) {
    open_try *t = arg;
    qc_api_apply_incoming_policy(s->c);
    t->rv = qc_conn_stream_accept(s->c->engine, &t->sid) ? 0 : QC_ERR_STREAM_LIMIT;
    return t->rv == 0 || conn_dead(s->c);
}

/* Resolves the stream a data call on s acts on; creates the default stream if needed.
 * for_write decides AUTO mode's direction. Lock held. Returns false with last_error set. */
static bool resolve_stream(quicc *s, bool for_write, uint64_t *sid) {
    qc_api_conn *c = s->c;
    if (s->kind == QC_OBJ_STREAM) {
        *sid = s->sid;
        return true;
    }
    if (c->default_sid != UINT64_MAX) {
        *sid = c->default_sid;
        return true;
    }
    if (c->default_stream_mode == QUICC_DEFAULT_STREAM_MODE_NONE || c->default_created ||
        c->default_inhibited) {
        s->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_NO_STREAM,
                        c->default_created     ? "the default stream was detached or freed"
                        : c->default_inhibited ? "no default stream: quicc_new_stream came first"
                                               : "no default stream (mode NONE)");
        return false;
    }
    open_try t = {.uni = c->default_stream_mode == QUICC_DEFAULT_STREAM_MODE_AUTO_UNI,
                  .rv = QC_ERR_STREAM_LIMIT};
    /* Writing opens it (waiting for stream credit); reading takes the first stream the
     * peer opens. */
    qc_api_block_until(s, 0, for_write ? try_open : try_accept, &t, QC_TS_NONE);
    if (t.rv == 0) {
        *sid = t.sid;
        c->default_sid = t.sid;
        c->default_created = true;
        return true;
    }
    if (conn_dead(c)) {
        qc_api_conn_failure(s);
        return false;
    }
    if (t.rv != QC_ERR_STREAM_LIMIT) {
        s->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "cannot open the default stream: %s",
                        qc_strerror(t.rv));
        return false;
    }
    s->last_error = for_write ? QUICC_ERROR_WANT_WRITE : QUICC_ERROR_WANT_READ;
    if (for_write) qc_api_err_push(QUICC_R_STREAM_COUNT_LIMITED, "cannot open the default stream");
    return false;
}

/* ---- streams ---- */

quicc *quicc_new_stream(quicc *conn, uint64_t flags) {
    if (!conn || conn->kind != QC_OBJ_CONN) {
        qc_api_err_push(QUICC_R_CONN_USE_ONLY, "quicc_new_stream needs a connection object");
        return NULL;
    }
    qc_api_conn *c = conn->c;
    pthread_mutex_lock(c->lock);
    quicc *st = NULL;
    if (!ensure_connected(conn)) goto out;
    open_try t = {.uni = flags & QUICC_STREAM_FLAG_UNI,
                  .advance = flags & QUICC_STREAM_FLAG_ADVANCE,
                  .rv = QC_ERR_STREAM_LIMIT};
    if (!conn_dead(c))
        qc_api_block_until(conn, flags & QUICC_STREAM_FLAG_NO_BLOCK ? QC_API_WAIT_NO_BLOCK : 0,
                           try_open, &t, QC_TS_NONE);
    if (t.rv == 0) {
        /* With a stream of its own, the connection gets no default stream (openssl-quic(7)). */
        if (c->default_sid == UINT64_MAX) c->default_inhibited = true;
        st = stream_obj_new(conn, t.sid);
        if (!st) qc_conn_stream_release(c->engine, t.sid);
        /* Let a STREAMS_BLOCKED or queued data go out; in 0-RTT mode the ClientHello waits
         * for the stream's first data instead, to leave with it. */
        if (!(c->early_mode && !c->connected)) io_tick(conn);
    } else if (conn_dead(c)) {
        qc_api_conn_failure(conn);
    } else if (t.rv != QC_ERR_STREAM_LIMIT) {
        conn->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "cannot open stream: %s", qc_strerror(t.rv));
    } else {
        conn->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_STREAM_COUNT_LIMITED, "peer's stream limit reached");
    }
out:
    pthread_mutex_unlock(c->lock);
    return st;
}

quicc *quicc_accept_stream(quicc *conn, uint64_t flags) {
    if (!conn || conn->kind != QC_OBJ_CONN) {
        qc_api_err_push(QUICC_R_CONN_USE_ONLY, "quicc_accept_stream needs a connection object");
        return NULL;
    }
    qc_api_conn *c = conn->c;
    pthread_mutex_lock(c->lock);
    quicc *st = NULL;
    if (!ensure_connected(conn)) goto out;
    open_try t = {.rv = QC_ERR_STREAM_LIMIT};
    qc_api_block_until(conn, flags & QUICC_ACCEPT_STREAM_NO_BLOCK ? QC_API_WAIT_NO_BLOCK : 0,
                       try_accept, &t, QC_TS_NONE);
    if (t.rv == 0)
        st = stream_obj_new(conn, t.sid);
    else if (conn_dead(c))
        qc_api_conn_failure(conn);
    else
        conn->last_error = QUICC_ERROR_WANT_READ;
out:
    pthread_mutex_unlock(c->lock);
    return st;
}

size_t quicc_get_accept_stream_queue_len(quicc *conn) {
    if (!qc_api_need_conn(conn, "quicc_get_accept_stream_queue_len") || !conn->c->engine) return 0;
    pthread_mutex_lock(conn->c->lock);
    size_t n = qc_conn_stream_accept_queue_len(conn->c->engine);
    pthread_mutex_unlock(conn->c->lock);
    return n;
}

int quicc_set_default_stream_mode(quicc *conn, uint32_t mode) {
    if (!qc_api_need_conn(conn, "quicc_set_default_stream_mode")) return 0;
    if (mode > QUICC_DEFAULT_STREAM_MODE_AUTO_UNI) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "bad default stream mode");
        return 0;
    }
    pthread_mutex_lock(conn->c->lock);
    conn->c->default_stream_mode = mode;
    pthread_mutex_unlock(conn->c->lock);
    return 1;
}

quicc *quicc_detach_stream(quicc *conn) {
    if (!conn || conn->kind != QC_OBJ_CONN) {
        qc_api_err_push(QUICC_R_CONN_USE_ONLY, "quicc_detach_stream needs a connection object");
        return NULL;
    }
    qc_api_conn *c = conn->c;
    pthread_mutex_lock(c->lock);
    quicc *st = NULL;
    if (c->default_sid == UINT64_MAX) {
        conn->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_NO_STREAM, "the connection has no default stream");
    } else if ((st = stream_obj_new(conn, c->default_sid)) != NULL) {
        c->default_sid = UINT64_MAX;
        c->detached_ever = true;
    }
    pthread_mutex_unlock(c->lock);
    return st;
}

int quicc_attach_stream(quicc *conn, quicc *stream) {
    if (!conn || conn->kind != QC_OBJ_CONN) {
        qc_api_err_push(QUICC_R_CONN_USE_ONLY, "quicc_attach_stream needs a connection object");
        return 0;
    }
    if (!stream || stream->kind != QC_OBJ_STREAM || stream->conn_obj != conn) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                        "quicc_attach_stream needs a stream object of this connection");
        return 0;
    }
    qc_api_conn *c = conn->c;
    pthread_mutex_lock(c->lock);
    if (c->default_sid != UINT64_MAX) {
        pthread_mutex_unlock(c->lock);
        conn->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_DEFAULT_STREAM_EXISTS, "the connection has a default stream");
        return 0;
    }
    c->default_sid = stream->sid;
    c->default_created = true;
    c->nstream_objs--;
    pthread_mutex_unlock(c->lock);
    qc_free(stream);
    return 1;
}

int quicc_set_incoming_stream_policy(quicc *conn, int policy, uint64_t aec) {
    if (!qc_api_need_conn(conn, "quicc_set_incoming_stream_policy")) return 0;
    if (policy < 0 || policy > QUICC_INCOMING_STREAM_POLICY_REJECT) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "bad incoming stream policy");
        return 0;
    }
    pthread_mutex_lock(conn->c->lock);
    conn->c->incoming_policy = policy;
    conn->c->incoming_aec = aec;
    pthread_mutex_unlock(conn->c->lock);
    return 1;
}

uint64_t quicc_get_stream_id(const quicc *s) {
    if (!s) return UINT64_MAX;
    return s->kind == QC_OBJ_STREAM ? s->sid : s->c->default_sid;
}

int quicc_get_stream_type(const quicc *s) {
    uint64_t sid = quicc_get_stream_id(s);
    if (sid == UINT64_MAX) return QUICC_STREAM_TYPE_NONE;
    if (!qc_sid_is_uni(sid)) return QUICC_STREAM_TYPE_BIDI;
    return qc_sid_is_local(sid, s->c->port->is_server) ? QUICC_STREAM_TYPE_WRITE
                                                       : QUICC_STREAM_TYPE_READ;
}

int quicc_is_stream_local(const quicc *s) {
    uint64_t sid = quicc_get_stream_id(s);
    if (sid == UINT64_MAX) return -1;
    return qc_sid_is_local(sid, s->c->port->is_server);
}

int quicc_is_connection(const quicc *s) {
    return s && s->kind == QC_OBJ_CONN;
}

quicc *quicc_get0_connection(quicc *s) {
    return s ? s->conn_obj : NULL;
}

/* Lets go of a stream: unfinished sending is reset, unfinished receiving stopped. */
static void release_stream(qc_api_conn *c, uint64_t sid) {
    qc_stream_info info;
    if (!c->engine || qc_conn_stream_info(c->engine, sid, &info) != 0) return;
    if ((info.send_state == QC_SEND_READY || info.send_state == QC_SEND_SEND) &&
        !info.send_concluded)
        qc_conn_stream_reset(c->engine, sid, 0);
    if (info.recv_state == QC_RECV_RECV || info.recv_state == QC_RECV_SIZE_KNOWN)
        qc_conn_stream_stop_sending(c->engine, sid, 0);
    qc_conn_stream_release(c->engine, sid);
}

static void stream_free(quicc *st) {
    qc_api_conn *c = st->c;
    quicc *conn = st->conn_obj;
    pthread_mutex_lock(c->lock);
    release_stream(c, st->sid);
    bool last = --c->nstream_objs == 0 && c->obj_freed;
    if (c->engine && c->connected) io_tick(st);
    pthread_mutex_unlock(c->lock);
    qc_free(st);
    if (last) conn->ops->free(conn); /* the application freed the connection before */
}

/* ---- data ---- */

/* Fails a data call because of the stream or connection state. Lock held. */
static int stream_failure(quicc *s, uint64_t sid, bool reading) {
    qc_api_conn *c = s->c;
    if (conn_dead(c)) {
        qc_api_conn_failure(s);
        return 0;
    }
    qc_stream_info info;
    if (qc_conn_stream_info(c->engine, sid, &info) != 0) {
        s->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_STREAM_FINISHED, "stream %llu is finished",
                        (unsigned long long)sid);
        return 0;
    }
    s->last_error = QUICC_ERROR_SSL;
    if (reading && info.reset_recvd)
        qc_api_err_push(QUICC_R_STREAM_RESET, "stream %llu reset by peer (error %llu)",
                        (unsigned long long)sid, (unsigned long long)info.reset_code_recvd);
    else if (!reading && info.reset_sent)
        qc_api_err_push(QUICC_R_STREAM_RESET, "stream %llu was reset (error %llu)%s",
                        (unsigned long long)sid, (unsigned long long)info.reset_code_sent,
                        info.stop_sending_recvd ? " after STOP_SENDING from peer" : "");
    else
        qc_api_err_push(QUICC_R_STREAM_FINISHED, "stream %llu is finished",
                        (unsigned long long)sid);
    return 0;
}

/* What one attempt at a data call found (try_read, try_write). */
enum data_outcome { DATA_WAIT, DATA_DONE, DATA_EOF, DATA_FAIL, DATA_WRONG_DIR };

typedef struct {
    uint64_t sid;
    uint8_t *buf;
    size_t len;
    bool peek; /* copy without consuming */
    int64_t n;
    enum data_outcome out;
} read_try;

static bool try_read(quicc *s, void *arg) {
    read_try *r = arg;
    qc_api_conn *c = s->c;
    qc_stream_info info;
    if (qc_conn_stream_info(c->engine, r->sid, &info) != 0) {
        r->out = DATA_FAIL;
    } else if (info.recv_state == QC_RECV_NONE) {
        r->out = DATA_WRONG_DIR;
    } else {
        bool fin = false;
        r->n = r->peek ? qc_conn_stream_peek(c->engine, r->sid, r->buf, r->len)
                       : qc_conn_stream_read(c->engine, r->sid, r->buf, r->len, &fin);
        if (r->n > 0) {
            r->out = DATA_DONE;
        } else if (r->n < 0) {
            r->out = DATA_FAIL;
        } else {
            qc_conn_stream_info(c->engine, r->sid, &info);
            bool fin_ready = false;
            qc_conn_stream_readable(c->engine, r->sid, &fin_ready);
            if (info.recv_state == QC_RECV_DATA_READ || (r->peek && fin_ready))
                r->out = DATA_EOF;
            else if (info.reset_recvd || conn_dead(c))
                r->out = DATA_FAIL;
        }
    }
    return r->out != DATA_WAIT;
}

static int read_common(quicc *s, void *buf, size_t len, size_t *readbytes, bool peek) {
    if (readbytes) *readbytes = 0;
    if (!s || (!buf && len) || !readbytes) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_read_ex: bad arguments");
        return 0;
    }
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    int ret = 0;
    uint64_t sid;
    if (!ensure_connected(s) || !resolve_stream(s, false, &sid)) goto out;
    read_try r = {.sid = sid, .buf = buf, .len = len, .peek = peek};
    qc_api_block_until(s, 0, try_read, &r, QC_TS_NONE);
    switch (r.out) {
    case DATA_DONE:
        *readbytes = (size_t)r.n;
        ret = 1;
        if (peek) break;
        /* Reading may have opened the flow-control window: tell the peer promptly. */
        qc_api_touch(c);
        if ((s->blocking || !c->explicit_events) && qc_conn_want_send(c->engine, qc_api_now()))
            qc_api_conn_flush(c, qc_api_now());
        break;
    case DATA_EOF:
        s->last_error = QUICC_ERROR_ZERO_RETURN;
        break;
    case DATA_WRONG_DIR:
        s->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_STREAM_SEND_ONLY, "stream %llu is send-only",
                        (unsigned long long)sid);
        break;
    case DATA_FAIL:
        ret = stream_failure(s, sid, true);
        break;
    case DATA_WAIT:
        if (conn_dead(c))
            ret = stream_failure(s, sid, true);
        else
            s->last_error = QUICC_ERROR_WANT_READ;
        break;
    }
out:
    pthread_mutex_unlock(c->lock);
    return ret;
}

typedef struct {
    uint64_t sid;
    const uint8_t *p;
    size_t len, done;
    bool conclude;
    bool partial; /* QUICC_MODE_ENABLE_PARTIAL_WRITE: done once anything was taken */
    enum data_outcome out;
} write_try;

/* Queues as much as the stream takes, pushing it out as it goes; done when all is queued or
 * the stream cannot take more for good. */
static bool try_write(quicc *s, void *arg) {
    write_try *w = arg;
    qc_api_conn *c = s->c;
    for (;;) {
        qc_stream_info info;
        if (qc_conn_stream_info(c->engine, w->sid, &info) != 0 || conn_dead(c)) {
            w->out = DATA_FAIL;
            return true;
        }
        if (info.send_state == QC_SEND_NONE) {
            w->out = DATA_WRONG_DIR;
            return true;
        }
        if ((info.send_state != QC_SEND_READY && info.send_state != QC_SEND_SEND) ||
            (info.send_concluded && w->done == 0 && w->len > 0)) {
            w->out = DATA_FAIL;
            return true;
        }
        int64_t n =
            qc_conn_stream_write(c->engine, w->sid, w->p + w->done, w->len - w->done, w->conclude);
        if (n < 0) {
            w->out = DATA_FAIL;
            return true;
        }
        w->done += (size_t)n;
        if (w->done == w->len) {
            if (w->conclude && w->len == 0) qc_conn_stream_write(c->engine, w->sid, NULL, 0, true);
            w->out = DATA_DONE;
            return true;
        }
        io_tick(s);
        if (qc_conn_stream_write_avail(c->engine, w->sid) > 0) continue;
        if (w->partial && w->done > 0) {
            w->out = DATA_DONE; /* partial write: report what was taken */
            return true;
        }
        return false;
    }
}

int quicc_write_ex2(quicc *s, const void *buf, size_t len, uint64_t flags, size_t *written) {
    if (written) *written = 0;
    if (!s || (!buf && len)) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_write_ex: bad arguments");
        return 0;
    }
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    int ret = 0;
    uint64_t sid;
    if (!ensure_connected(s) || !resolve_stream(s, true, &sid)) goto out;
    /* A nonblocking retry continues where the previous attempt stopped. It must pass the
     * same data (OpenSSL's rule): the same length, and the same buffer unless the
     * application allowed it to move. */
    write_try w = {.sid = sid,
                   .p = buf,
                   .len = len,
                   .conclude = flags & QUICC_WRITE_FLAG_CONCLUDE,
                   .partial = s->mode & QUICC_MODE_ENABLE_PARTIAL_WRITE};
    if (s->write_pending) {
        s->write_pending = false;
        if (len != s->pending_len ||
            (buf != s->pending_buf && !(s->mode & QUICC_MODE_ACCEPT_MOVING_WRITE_BUFFER))) {
            s->last_error = QUICC_ERROR_SSL;
            qc_api_err_push(QUICC_R_BAD_WRITE_RETRY,
                            "a write retried after WANT_WRITE must pass the same %s",
                            len != s->pending_len ? "length" : "buffer");
            goto out;
        }
        w.done = s->pending_done;
    }
    qc_api_block_until(s, 0, try_write, &w, QC_TS_NONE);
    switch (w.out) {
    case DATA_DONE:
        *written = w.done;
        ret = 1;
        io_tick(s);
        break;
    case DATA_WRONG_DIR:
        s->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_STREAM_RECV_ONLY, "stream %llu is receive-only",
                        (unsigned long long)sid);
        break;
    case DATA_WAIT:
        if (!conn_dead(c)) {
            s->write_pending = true;
            s->pending_len = len;
            s->pending_buf = buf;
            s->pending_done = w.done;
            s->last_error = QUICC_ERROR_WANT_WRITE;
            break;
        }
        /* fall through */
    default:
        ret = stream_failure(s, sid, false);
        break;
    }
out:
    pthread_mutex_unlock(c->lock);
    return ret;
}

int quicc_write_ex(quicc *s, const void *buf, size_t len, size_t *written) {
    return quicc_write_ex2(s, buf, len, 0, written);
}

int quicc_read_ex(quicc *s, void *buf, size_t len, size_t *readbytes) {
    return read_common(s, buf, len, readbytes, false);
}

int quicc_peek_ex(quicc *s, void *buf, size_t len, size_t *readbytes) {
    return read_common(s, buf, len, readbytes, true);
}

/* The int forms, as SSL_read/SSL_peek/SSL_write: the byte count, or <= 0 (then
 * quicc_get_error says why: 0 for the end of the stream and failures, -1 to retry). */
static int int_result(quicc *s, int ok, size_t n) {
    if (ok) return (int)n;
    int e = s ? s->last_error : QUICC_ERROR_SSL;
    return e == QUICC_ERROR_WANT_READ || e == QUICC_ERROR_WANT_WRITE ? -1 : 0;
}

/* An int form over its _ex call (read_ex or peek_ex). */
static int int_read(quicc *s, void *buf, int num, int (*ex)(quicc *, void *, size_t, size_t *)) {
    size_t n = 0;
    if (num < 0) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "negative length");
        return 0;
    }
    int ok = ex(s, buf, (size_t)num, &n);
    return int_result(s, ok, n);
}

int quicc_read(quicc *s, void *buf, int num) {
    return int_read(s, buf, num, quicc_read_ex);
}

int quicc_peek(quicc *s, void *buf, int num) {
    return int_read(s, buf, num, quicc_peek_ex);
}

int quicc_write(quicc *s, const void *buf, int num) {
    size_t n = 0;
    if (num < 0) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_write: negative length");
        return 0;
    }
    int ok = quicc_write_ex(s, buf, (size_t)num, &n);
    return int_result(s, ok, n);
}

/* Bytes readable now on the object's stream, without network work (SSL_pending). */
int quicc_pending(const quicc *s) {
    if (!s || s->kind == QC_OBJ_LISTENER) return 0;
    qc_api_conn *c = s->c;
    uint64_t sid = quicc_get_stream_id(s);
    if (sid == UINT64_MAX) return 0;
    pthread_mutex_lock(c->lock);
    bool fin;
    size_t n = c->engine ? qc_conn_stream_readable(c->engine, sid, &fin) : 0;
    pthread_mutex_unlock(c->lock);
    return n > INT_MAX ? INT_MAX : (int)n;
}

int quicc_has_pending(const quicc *s) {
    return quicc_pending(s) > 0;
}

int quicc_stream_conclude(quicc *s, uint64_t flags) {
    (void)flags;
    if (!s) return 0;
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    int ret = 0;
    uint64_t sid;
    if (!ensure_connected(s) || !resolve_stream(s, true, &sid)) goto out;
    qc_stream_info info;
    if (qc_conn_stream_info(c->engine, sid, &info) != 0 || info.send_state == QC_SEND_NONE) {
        s->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_STREAM_RECV_ONLY, "stream %llu is receive-only",
                        (unsigned long long)sid);
        goto out;
    }
    if (info.send_state == QC_SEND_DATA_SENT || info.send_state == QC_SEND_DATA_RECVD ||
        info.send_concluded) {
        ret = 1; /* idempotent */
        goto out;
    }
    int64_t n = qc_conn_stream_write(c->engine, sid, NULL, 0, true);
    if (n < 0) {
        ret = stream_failure(s, sid, false);
        goto out;
    }
    io_tick(s);
    ret = 1;
out:
    pthread_mutex_unlock(c->lock);
    return ret;
}

int quicc_stream_reset(quicc *s, uint64_t app_error_code) {
    if (!s) return 0;
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    int ret = 0;
    uint64_t sid;
    if (!ensure_connected(s) || !resolve_stream(s, true, &sid)) goto out;
    qc_stream_info info;
    if (qc_conn_stream_info(c->engine, sid, &info) != 0 || conn_dead(c)) {
        ret = stream_failure(s, sid, false);
        goto out;
    }
    /* As in OpenSSL: a receive-only stream has nothing to reset, and a stream is reset once;
     * one whose data the peer has all acknowledged is finished. */
    s->last_error = QUICC_ERROR_SSL;
    if (info.send_state == QC_SEND_NONE) {
        qc_api_err_push(QUICC_R_STREAM_RECV_ONLY, "stream %llu is receive-only",
                        (unsigned long long)sid);
        goto out;
    }
    if (info.reset_sent) {
        qc_api_err_push(QUICC_R_STREAM_RESET, "stream %llu was already reset (error %llu)",
                        (unsigned long long)sid, (unsigned long long)info.reset_code_sent);
        goto out;
    }
    if (info.send_state == QC_SEND_DATA_RECVD) {
        qc_api_err_push(QUICC_R_STREAM_FINISHED, "stream %llu is finished",
                        (unsigned long long)sid);
        goto out;
    }
    int rv = qc_conn_stream_reset(c->engine, sid, app_error_code);
    if (rv) {
        ret = stream_failure(s, sid, false);
        goto out;
    }
    s->last_error = QUICC_ERROR_NONE;
    io_tick(s);
    ret = 1;
out:
    pthread_mutex_unlock(c->lock);
    return ret;
}

static int part_state(quicc *s, bool reading) {
    qc_api_conn *c = s->c;
    uint64_t sid = quicc_get_stream_id(s);
    if (sid == UINT64_MAX || !c->engine) return QUICC_STREAM_STATE_NONE;
    bool local = qc_sid_is_local(sid, s->c->port->is_server);
    if (qc_sid_is_uni(sid) && local == reading) return QUICC_STREAM_STATE_WRONG_DIR;
    qc_stream_info info;
    if (qc_conn_stream_info(c->engine, sid, &info) != 0)
        return conn_dead(c) ? QUICC_STREAM_STATE_CONN_CLOSED : QUICC_STREAM_STATE_FINISHED;
    if (reading) {
        if (info.reset_recvd) return QUICC_STREAM_STATE_RESET_REMOTE;
        if (info.recv_state == QC_RECV_DATA_READ) return QUICC_STREAM_STATE_FINISHED;
        if (info.stop_sending_recvd) return QUICC_STREAM_STATE_RESET_LOCAL;
    } else {
        if (info.stop_sending_recvd) return QUICC_STREAM_STATE_RESET_REMOTE;
        if (info.reset_sent) return QUICC_STREAM_STATE_RESET_LOCAL;
        if (info.send_state == QC_SEND_DATA_SENT || info.send_state == QC_SEND_DATA_RECVD ||
            info.send_concluded)
            return QUICC_STREAM_STATE_FINISHED;
    }
    if (conn_dead(c)) return QUICC_STREAM_STATE_CONN_CLOSED;
    return QUICC_STREAM_STATE_OK;
}

int quicc_get_stream_read_state(quicc *s) {
    if (!s) return QUICC_STREAM_STATE_NONE;
    pthread_mutex_lock(s->c->lock);
    int r = part_state(s, true);
    pthread_mutex_unlock(s->c->lock);
    return r;
}

int quicc_get_stream_write_state(quicc *s) {
    if (!s) return QUICC_STREAM_STATE_NONE;
    pthread_mutex_lock(s->c->lock);
    int r = part_state(s, false);
    pthread_mutex_unlock(s->c->lock);
    return r;
}

static int part_error_code(quicc *s, bool reading, uint64_t *code) {
    qc_api_conn *c = s->c;
    uint64_t sid = quicc_get_stream_id(s);
    qc_stream_info info;
    if (sid == UINT64_MAX || !c->engine || qc_conn_stream_info(c->engine, sid, &info) != 0)
        return -1;
    if (reading && info.reset_recvd) {
        *code = info.reset_code_recvd;
        return 1;
    }
    if (!reading && info.stop_sending_recvd) {
        *code = info.stop_code_recvd;
        return 1;
    }
    if (!reading && info.reset_sent) {
        *code = info.reset_code_sent;
        return 1;
    }
    if (reading && info.recv_state == QC_RECV_DATA_READ) return 0;
    if (!reading && info.send_state == QC_SEND_DATA_RECVD) return 0;
    return -1;
}

int quicc_get_stream_read_error_code(quicc *s, uint64_t *code) {
    if (!s || !code) return -1;
    pthread_mutex_lock(s->c->lock);
    int r = part_error_code(s, true, code);
    pthread_mutex_unlock(s->c->lock);
    return r;
}

int quicc_get_stream_write_error_code(quicc *s, uint64_t *code) {
    if (!s || !code) return -1;
    pthread_mutex_lock(s->c->lock);
    int r = part_error_code(s, false, code);
    pthread_mutex_unlock(s->c->lock);
    return r;
}

/* ---- values ---- */

/* The values a stream object has of its own; the others are the connection's. */
static bool stream_level_value(uint32_t id) {
    return id == QUICC_VALUE_EVENT_HANDLING_MODE || id == QUICC_VALUE_STREAM_WRITE_BUF_SIZE ||
           id == QUICC_VALUE_STREAM_WRITE_BUF_USED || id == QUICC_VALUE_STREAM_WRITE_BUF_AVAIL;
}

int quicc_get_value_uint(quicc *s, uint32_t class_, uint32_t id, uint64_t *value) {
    if (!s || !value) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_get_value_uint: bad arguments");
        return 0;
    }
    if (s->kind == QC_OBJ_STREAM && !stream_level_value(id)) {
        qc_api_err_push(QUICC_R_CONN_USE_ONLY, "value %u belongs to the connection", id);
        return 0;
    }
    qc_api_conn *c = s->c;
    int ok = 1;
    pthread_mutex_lock(c->lock);
    if (s->kind == QC_OBJ_LISTENER && id >= QUICC_VALUE_LISTENER_RETRY_SENT &&
        id <= QUICC_VALUE_LISTENER_SHED) {
        const qc_endpoint *ep = &c->port->ep;
        *value = id == QUICC_VALUE_LISTENER_RETRY_SENT    ? ep->retry_sent
                 : id == QUICC_VALUE_LISTENER_RESETS_SENT ? ep->resets_sent
                 : id == QUICC_VALUE_LISTENER_VN_SENT     ? ep->vn_sent
                 : id == QUICC_VALUE_LISTENER_DROPPED     ? ep->dropped
                 : id == QUICC_VALUE_LISTENER_HANDSHAKES  ? ep->pending
                                                          : ep->shed;
        pthread_mutex_unlock(c->lock);
        return 1;
    }
    switch (id) {
    case QUICC_VALUE_QUIC_IDLE_TIMEOUT: {
        const qc_tparams *tp = c->engine ? qc_conn_peer_tparams(c->engine) : NULL;
        if (class_ == QUICC_VALUE_CLASS_FEATURE_PEER_REQUEST) {
            if (!tp) {
                ok = 0;
                break;
            }
            *value = tp->max_idle_timeout_ms;
        } else if (class_ == QUICC_VALUE_CLASS_FEATURE_NEGOTIATED) {
            if (!tp) {
                ok = 0;
                break;
            }
            uint64_t a = c->idle_timeout_ms, b = tp->max_idle_timeout_ms;
            *value = !a ? b : (!b ? a : (a < b ? a : b));
        } else {
            *value = c->idle_timeout_ms;
        }
        break;
    }
    case QUICC_VALUE_QUIC_STREAM_BIDI_LOCAL_AVAIL:
    case QUICC_VALUE_QUIC_STREAM_UNI_LOCAL_AVAIL:
        if (!c->engine) {
            ok = 0;
            break;
        }
        *value = qc_conn_streams_avail(c->engine, id == QUICC_VALUE_QUIC_STREAM_UNI_LOCAL_AVAIL);
        break;
    case QUICC_VALUE_QUIC_STREAM_BIDI_REMOTE_AVAIL:
    case QUICC_VALUE_QUIC_STREAM_UNI_REMOTE_AVAIL:
        if (!c->engine) {
            ok = 0;
            break;
        }
        *value =
            qc_conn_peer_streams_avail(c->engine, id == QUICC_VALUE_QUIC_STREAM_UNI_REMOTE_AVAIL);
        break;
    case QUICC_VALUE_CONN_PACKETS_SENT:
    case QUICC_VALUE_CONN_PACKETS_RECEIVED:
    case QUICC_VALUE_CONN_PACKETS_LOST:
    case QUICC_VALUE_CONN_SMOOTHED_RTT_US:
    case QUICC_VALUE_CONN_MIN_RTT_US:
    case QUICC_VALUE_CONN_CWND:
    case QUICC_VALUE_CONN_ECN_STATE:
    case QUICC_VALUE_CONN_ECN_ECT0_RECEIVED:
    case QUICC_VALUE_CONN_ECN_CE_RECEIVED:
    case QUICC_VALUE_CONN_ECN_CE_REPORTED:
    case QUICC_VALUE_CONN_0RTT_SENT:
    case QUICC_VALUE_CONN_0RTT_RECEIVED:
    case QUICC_VALUE_CONN_PATH_MIGRATIONS:
    case QUICC_VALUE_CONN_PATH_VALIDATION_FAILURES: {
        if (!c->engine) {
            ok = 0;
            break;
        }
        qc_conn_stats st;
        qc_conn_get_stats(c->engine, &st);
        *value = id == QUICC_VALUE_CONN_PACKETS_SENT               ? st.pkts_sent
                 : id == QUICC_VALUE_CONN_PACKETS_RECEIVED         ? st.pkts_recv
                 : id == QUICC_VALUE_CONN_PACKETS_LOST             ? st.pkts_lost
                 : id == QUICC_VALUE_CONN_SMOOTHED_RTT_US          ? st.srtt / QC_US
                 : id == QUICC_VALUE_CONN_MIN_RTT_US               ? st.min_rtt / QC_US
                 : id == QUICC_VALUE_CONN_CWND                     ? st.cwnd
                 : id == QUICC_VALUE_CONN_ECN_STATE                ? (uint64_t)st.ecn_state
                 : id == QUICC_VALUE_CONN_ECN_ECT0_RECEIVED        ? st.ecn_recv[0]
                 : id == QUICC_VALUE_CONN_ECN_CE_RECEIVED          ? st.ecn_recv[2]
                 : id == QUICC_VALUE_CONN_0RTT_SENT                ? st.zero_rtt_sent
                 : id == QUICC_VALUE_CONN_0RTT_RECEIVED            ? st.zero_rtt_recv
                 : id == QUICC_VALUE_CONN_PATH_MIGRATIONS          ? st.path_migrations
                 : id == QUICC_VALUE_CONN_PATH_VALIDATION_FAILURES ? st.path_validation_failures
                                                                   : st.ecn_peer_ce;
        break;
    }
    case QUICC_VALUE_QUIC_KEY_UPDATES:
        if (!c->engine) {
            ok = 0;
            break;
        }
        *value = qc_conn_key_updates(c->engine);
        break;
    case QUICC_VALUE_EVENT_HANDLING_MODE:
        *value = c->explicit_events ? QUICC_EVENT_HANDLING_MODE_EXPLICIT
                                    : QUICC_EVENT_HANDLING_MODE_IMPLICIT;
        break;
    case QUICC_VALUE_STREAM_WRITE_BUF_SIZE:
    case QUICC_VALUE_STREAM_WRITE_BUF_USED:
    case QUICC_VALUE_STREAM_WRITE_BUF_AVAIL: {
        uint64_t sid = quicc_get_stream_id(s);
        qc_stream_info info;
        if (sid == UINT64_MAX || !c->engine || qc_conn_stream_info(c->engine, sid, &info) != 0 ||
            info.send_state == QC_SEND_NONE) {
            ok = 0;
            break;
        }
        if (id == QUICC_VALUE_STREAM_WRITE_BUF_SIZE)
            *value = info.send_buffer_size;
        else if (id == QUICC_VALUE_STREAM_WRITE_BUF_USED)
            *value = info.send_buffered;
        else
            *value = qc_conn_stream_write_avail(c->engine, sid);
        break;
    }
    default:
        ok = 0;
    }
    pthread_mutex_unlock(c->lock);
    if (!ok)
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "value %u of class %u is not available",
                        id, class_);
    return ok;
}

int quicc_set_value_uint(quicc *s, uint32_t class_, uint32_t id, uint64_t value) {
    if (!s) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_set_value_uint: NULL object");
        return 0;
    }
    if (s->kind == QC_OBJ_STREAM && !stream_level_value(id)) {
        qc_api_err_push(QUICC_R_CONN_USE_ONLY, "value %u belongs to the connection", id);
        return 0;
    }
    switch (id) {
    case QUICC_VALUE_QUIC_IDLE_TIMEOUT:
        return quicc_set_idle_timeout(s, value);
    case QUICC_VALUE_EVENT_HANDLING_MODE:
        if (value > QUICC_EVENT_HANDLING_MODE_EXPLICIT) break;
        pthread_mutex_lock(s->c->lock);
        s->c->explicit_events = value == QUICC_EVENT_HANDLING_MODE_EXPLICIT;
        pthread_mutex_unlock(s->c->lock);
        return 1;
    default:
        break;
    }
    qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "value %u of class %u cannot be set", id,
                    class_);
    return 0;
}

_Static_assert(QUICC_ECN_STATE_TESTING == QC_ECN_TESTING &&
                   QUICC_ECN_STATE_CAPABLE == QC_ECN_CAPABLE &&
                   QUICC_ECN_STATE_FAILED == QC_ECN_FAILED &&
                   QUICC_ECN_STATE_DISABLED == QC_ECN_DISABLED,
               "public and engine ECN states agree");
