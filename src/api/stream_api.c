/*
 * stream_api.c: stream objects and data calls of the public API: new and
 * accepted streams, the default stream, the incoming-stream policy,
 * read/write (blocking and nonblocking, with OpenSSL's retry rules),
 * conclude, reset, and stream states.
 */
#include "api/api_internal.h"
#include "core/stream.h"

#include <stdlib.h>
#include <string.h>

static bool conn_dead(const qc_api_conn *c) {
    return c->port->net_error || (c->engine && qc_conn_state(c->engine) >= QC_CONN_CLOSING);
}

/* Network work a data call does on the way: none for a nonblocking call in the explicit
 * event-handling mode (quicc_handle_events does it). Lock held. */
static void io_tick(quicc *s) {
    qc_api_touch(s->c);
    if (s->blocking || !s->c->explicit_events) qc_api_port_turn(s->c->port);
}

static quicc *stream_obj_new(quicc *conn, uint64_t sid) {
    quicc *st = calloc(1, sizeof(*st));
    if (!st) {
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "out of memory");
        return NULL;
    }
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
    bool saved = conn->blocking;
    conn->blocking = s->blocking;
    int r = qc_api_connect_locked(conn);
    conn->blocking = saved;
    s->last_error = conn->last_error;
    return r == 1;
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
    if (c->default_stream_mode == QUICC_DEFAULT_STREAM_MODE_NONE || c->default_created) {
        s->last_error = QUICC_ERROR_SSL;
        qc_api_err_push(QUICC_R_NO_STREAM, c->default_created
                                               ? "the default stream was detached or freed"
                                               : "no default stream (mode NONE)");
        return false;
    }
    if (for_write) {
        bool uni = c->default_stream_mode == QUICC_DEFAULT_STREAM_MODE_AUTO_UNI;
        for (;;) {
            int rv = qc_conn_stream_open(c->engine, uni, false, sid);
            if (rv == 0) {
                c->default_sid = *sid;
                c->default_created = true;
                return true;
            }
            if (rv != QC_ERR_STREAM_LIMIT || !s->blocking) {
                s->last_error =
                    rv == QC_ERR_STREAM_LIMIT ? QUICC_ERROR_WANT_WRITE : QUICC_ERROR_SSL;
                qc_api_err_push(QUICC_R_STREAM_COUNT_LIMITED, "cannot open the default stream");
                return false;
            }
            qc_api_port_wait(c->port, QC_TS_NONE);
            if (conn_dead(c)) {
                qc_api_conn_failure(s);
                return false;
            }
        }
    }
    /* Read first: the first stream the peer opens becomes the default stream. */
    for (;;) {
        if (qc_conn_stream_accept(c->engine, sid)) {
            c->default_sid = *sid;
            c->default_created = true;
            return true;
        }
        if (conn_dead(c)) {
            qc_api_conn_failure(s);
            return false;
        }
        if (!s->blocking) {
            if (!c->explicit_events) qc_api_port_turn(c->port);
            if (qc_conn_stream_accept_queue_len(c->engine)) continue;
            s->last_error = QUICC_ERROR_WANT_READ;
            return false;
        }
        qc_api_port_wait(c->port, QC_TS_NONE);
    }
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
    bool uni = flags & QUICC_STREAM_FLAG_UNI;
    bool advance = flags & QUICC_STREAM_FLAG_ADVANCE;
    for (;;) {
        if (conn_dead(c)) {
            qc_api_conn_failure(conn);
            goto out;
        }
        uint64_t sid;
        int rv = qc_conn_stream_open(c->engine, uni, advance, &sid);
        if (rv == 0) {
            st = stream_obj_new(conn, sid);
            if (!st) qc_conn_stream_release(c->engine, sid);
            io_tick(conn); /* let a STREAMS_BLOCKED or queued data go out */
            goto out;
        }
        if (rv != QC_ERR_STREAM_LIMIT) {
            conn->last_error = QUICC_ERROR_SSL;
            qc_api_err_push(QUICC_R_INTERNAL_ERROR, "cannot open stream: %s", qc_strerror(rv));
            goto out;
        }
        if (!conn->blocking || (flags & QUICC_STREAM_FLAG_NO_BLOCK)) {
            conn->last_error = QUICC_ERROR_SSL;
            qc_api_err_push(QUICC_R_STREAM_COUNT_LIMITED, "peer's stream limit reached");
            goto out;
        }
        qc_api_port_wait(c->port, QC_TS_NONE);
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
    for (;;) {
        qc_api_apply_incoming_policy(c);
        uint64_t sid;
        if (qc_conn_stream_accept(c->engine, &sid)) {
            st = stream_obj_new(conn, sid);
            goto out;
        }
        if (conn_dead(c)) {
            qc_api_conn_failure(conn);
            goto out;
        }
        if (!conn->blocking || (flags & QUICC_ACCEPT_STREAM_NO_BLOCK)) {
            if (!c->explicit_events) qc_api_port_turn(c->port);
            qc_api_apply_incoming_policy(c);
            if (qc_conn_stream_accept(c->engine, &sid)) {
                st = stream_obj_new(conn, sid);
                goto out;
            }
            conn->last_error = QUICC_ERROR_WANT_READ;
            goto out;
        }
        qc_api_port_wait(c->port, QC_TS_NONE);
    }
out:
    pthread_mutex_unlock(c->lock);
    return st;
}

size_t quicc_get_accept_stream_queue_len(quicc *conn) {
    if (!conn || !conn->c->engine) return 0;
    pthread_mutex_lock(conn->c->lock);
    size_t n = qc_conn_stream_accept_queue_len(conn->c->engine);
    pthread_mutex_unlock(conn->c->lock);
    return n;
}

int quicc_set_default_stream_mode(quicc *conn, uint32_t mode) {
    if (!conn || conn->kind != QC_OBJ_CONN || mode > QUICC_DEFAULT_STREAM_MODE_AUTO_UNI) {
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
    free(stream);
    return 1;
}

int quicc_set_incoming_stream_policy(quicc *conn, int policy, uint64_t aec) {
    if (!conn || conn->kind != QC_OBJ_CONN || policy < 0 ||
        policy > QUICC_INCOMING_STREAM_POLICY_REJECT) {
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

void qc_api_stream_free(quicc *st);
void qc_api_stream_free(quicc *st) {
    qc_api_conn *c = st->c;
    pthread_mutex_lock(c->lock);
    release_stream(c, st->sid);
    c->nstream_objs--;
    if (c->engine && c->connected) io_tick(st);
    pthread_mutex_unlock(c->lock);
    free(st);
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

int quicc_read_ex(quicc *s, void *buf, size_t len, size_t *readbytes) {
    if (readbytes) *readbytes = 0;
    if (!s || (!buf && len)) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_read_ex: bad arguments");
        return 0;
    }
    qc_api_conn *c = s->c;
    pthread_mutex_lock(c->lock);
    int ret = 0;
    uint64_t sid;
    if (!ensure_connected(s) || !resolve_stream(s, false, &sid)) goto out;
    bool ticked = false;
    for (;;) {
        qc_stream_info info;
        if (qc_conn_stream_info(c->engine, sid, &info) != 0) {
            ret = stream_failure(s, sid, true);
            goto out;
        }
        if (info.recv_state == QC_RECV_NONE) {
            s->last_error = QUICC_ERROR_SSL;
            qc_api_err_push(QUICC_R_WRONG_STREAM_DIRECTION, "stream %llu is send-only",
                            (unsigned long long)sid);
            goto out;
        }
        bool fin = false;
        int64_t n = qc_conn_stream_read(c->engine, sid, buf, len, &fin);
        if (n > 0) {
            *readbytes = (size_t)n;
            ret = 1;
            if (!ticked) io_tick(s); /* send window updates promptly */
            goto out;
        }
        if (n < 0) {
            ret = stream_failure(s, sid, true);
            goto out;
        }
        qc_conn_stream_info(c->engine, sid, &info);
        if (info.recv_state == QC_RECV_DATA_READ) {
            s->last_error = QUICC_ERROR_ZERO_RETURN;
            goto out;
        }
        if (info.reset_recvd || conn_dead(c)) {
            ret = stream_failure(s, sid, true);
            goto out;
        }
        if (!s->blocking) {
            if (ticked || c->explicit_events) {
                s->last_error = QUICC_ERROR_WANT_READ;
                goto out;
            }
            qc_api_port_turn(c->port);
            ticked = true;
            continue;
        }
        qc_api_port_wait(c->port, QC_TS_NONE);
    }
out:
    pthread_mutex_unlock(c->lock);
    return ret;
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
    bool conclude = flags & QUICC_WRITE_FLAG_CONCLUDE;
    /* A nonblocking retry continues where the previous attempt stopped. It must pass the
     * same data (OpenSSL's rule): the same length, and the same buffer unless the
     * application allowed it to move. */
    size_t done = 0;
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
        done = s->pending_done;
    }
    const uint8_t *p = buf;
    for (;;) {
        qc_stream_info info;
        if (qc_conn_stream_info(c->engine, sid, &info) != 0 || conn_dead(c)) {
            ret = stream_failure(s, sid, false);
            goto out;
        }
        if (info.send_state == QC_SEND_NONE) {
            s->last_error = QUICC_ERROR_SSL;
            qc_api_err_push(QUICC_R_WRONG_STREAM_DIRECTION, "stream %llu is receive-only",
                            (unsigned long long)sid);
            goto out;
        }
        if ((info.send_state != QC_SEND_READY && info.send_state != QC_SEND_SEND) ||
            (info.send_concluded && done == 0 && len > 0)) {
            ret = stream_failure(s, sid, false);
            goto out;
        }
        int64_t n = qc_conn_stream_write(c->engine, sid, p + done, len - done, conclude);
        if (n < 0) {
            ret = stream_failure(s, sid, false);
            goto out;
        }
        done += (size_t)n;
        if (done == len) {
            if (conclude && len == 0) qc_conn_stream_write(c->engine, sid, NULL, 0, true);
            *written = len;
            ret = 1;
            io_tick(s);
            goto out;
        }
        io_tick(s);
        if (qc_conn_stream_write_avail(c->engine, sid) > 0) continue;
        if (!s->blocking) {
            s->write_pending = true;
            s->pending_len = len;
            s->pending_buf = buf;
            s->pending_done = done;
            s->last_error = QUICC_ERROR_WANT_WRITE;
            goto out;
        }
        qc_api_port_wait(c->port, QC_TS_NONE);
    }
out:
    pthread_mutex_unlock(c->lock);
    return ret;
}

int quicc_write_ex(quicc *s, const void *buf, size_t len, size_t *written) {
    return quicc_write_ex2(s, buf, len, 0, written);
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
        qc_api_err_push(QUICC_R_WRONG_STREAM_DIRECTION, "stream has no sending part");
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
    int rv = qc_conn_stream_reset(c->engine, sid, app_error_code);
    if (rv && rv != QC_ERR_STREAM_STATE) {
        ret = stream_failure(s, sid, false);
        goto out;
    }
    io_tick(s);
    ret = 1; /* resetting an already reset or finished stream is harmless: first code wins */
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

int quicc_get_value_uint(quicc *s, uint32_t class_, uint32_t id, uint64_t *value) {
    if (!s || !value) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_get_value_uint: bad arguments");
        return 0;
    }
    qc_api_conn *c = s->c;
    int ok = 1;
    pthread_mutex_lock(c->lock);
    if (s->kind == QC_OBJ_LISTENER && id >= QUICC_VALUE_LISTENER_RETRY_SENT &&
        id <= QUICC_VALUE_LISTENER_DROPPED) {
        const qc_endpoint *ep = &c->port->ep;
        *value = id == QUICC_VALUE_LISTENER_RETRY_SENT    ? ep->retry_sent
                 : id == QUICC_VALUE_LISTENER_RESETS_SENT ? ep->resets_sent
                 : id == QUICC_VALUE_LISTENER_VN_SENT     ? ep->vn_sent
                                                          : ep->dropped;
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
    case QUICC_VALUE_CONN_CWND: {
        if (!c->engine) {
            ok = 0;
            break;
        }
        qc_conn_stats st;
        qc_conn_get_stats(c->engine, &st);
        *value = id == QUICC_VALUE_CONN_PACKETS_SENT       ? st.pkts_sent
                 : id == QUICC_VALUE_CONN_PACKETS_RECEIVED ? st.pkts_recv
                 : id == QUICC_VALUE_CONN_PACKETS_LOST     ? st.pkts_lost
                 : id == QUICC_VALUE_CONN_SMOOTHED_RTT_US  ? st.srtt / QC_US
                 : id == QUICC_VALUE_CONN_MIN_RTT_US       ? st.min_rtt / QC_US
                                                           : st.cwnd;
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
