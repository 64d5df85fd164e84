/*
 * apiscript.c: the interpreter of API scenario scripts (apiscript.h).
 *
 * The server is a quicc listener on 127.0.0.1 whose port a pump thread
 * services (quicc_handle_events) while the script runs; server operations
 * are nonblocking calls retried until they succeed. Client operations use
 * the mode under test. Every wait is bounded (AS_OP_TIMEOUT_MS per op).
 */
#include "support/apiscript.h"

#include "api/api_internal.h"
#include "tls/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define AS_OP_TIMEOUT_MS 10000
#define AS_ALPN "\x0aquicc-test"

static const char *const mode_names[] = {"blocking", "nonblocking", "thread-assisted"};

const char *as_mode_name(enum as_mode mode) {
    return mode < AS_MODES ? mode_names[mode] : "?";
}

uint64_t as_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

bool as_fail(as_ctx *g, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&print_lock);
    fprintf(stderr, "FAIL %s [%s] op %d: ", g->script, as_mode_name(g->mode), g->opno);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    quicc_err_print(stderr);
    pthread_mutex_unlock(&print_lock);
    va_end(ap);
    g->failed = true;
    return false;
}

bool as_expect_reason(as_ctx *g, unsigned long r) {
    unsigned long e = quicc_err_get();
    const char *detail = quicc_err_detail();
    unsigned long more = quicc_err_peek();
    if (e != r)
        return as_fail(g, "error reason %lu (%s: %s), expected %lu (%s)", e,
                       quicc_err_reason_string(e), detail ? detail : "", r,
                       quicc_err_reason_string(r));
    (void)more; /* a failing call may push more than one entry (e.g. cause and effect) */
    quicc_err_clear();
    return true;
}

/* ---- the server side ---- */

typedef struct pump {
    as_ctx *g;
    pthread_t th;
    atomic_bool stop;
} pump;

static void *pump_main(void *arg) {
    pump *p = arg;
    while (!atomic_load(&p->stop)) {
        struct pollfd pfd = {.fd = p->g->lfd, .events = POLLIN};
        struct timeval tv;
        int inf = 1;
        quicc_get_event_timeout(p->g->listener, &tv, &inf);
        int ms = inf ? 5 : (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
        poll(&pfd, 1, ms > 5 ? 5 : ms);
        quicc_handle_events(p->g->listener);
    }
    return NULL;
}

static bool server_setup(as_ctx *g) {
    snprintf(g->dir, sizeof(g->dir), "/tmp/quicc-apiscript-XXXXXX");
    if (!mkdtemp(g->dir)) return as_fail(g, "mkdtemp: %s", strerror(errno));
    snprintf(g->cert, sizeof(g->cert), "%s/cert.pem", g->dir);
    snprintf(g->key, sizeof(g->key), "%s/key.pem", g->dir);
    const char *names[] = {"localhost"};
    char err[256];
    int64_t t = (int64_t)time(NULL);
    if (qc_tls_generate_selfsigned(g->cert, g->key, names, 1, NULL, 0, t - 3600, t + 86400, err,
                                   sizeof(err)) != 0)
        return as_fail(g, "certificate: %s", err);
    g->sctx = quicc_ctx_new(QUICC_SERVER);
    if (!g->sctx || !quicc_ctx_use_certificate_chain_file(g->sctx, g->cert) ||
        !quicc_ctx_use_PrivateKey_file(g->sctx, g->key) ||
        quicc_ctx_set_alpn_protos(g->sctx, (const unsigned char *)AS_ALPN, 11) != 0)
        return as_fail(g, "server context");
    g->lfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    if (g->lfd < 0 || bind(g->lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        return as_fail(g, "server socket: %s", strerror(errno));
    g->saddr_len = sizeof(g->saddr);
    getsockname(g->lfd, (struct sockaddr *)&g->saddr, &g->saddr_len);
    g->listener = quicc_new_listener(g->sctx, QUICC_LISTENER_FLAG_NO_RETRY);
    if (!g->listener || !quicc_set_fd(g->listener, g->lfd) ||
        !quicc_set_blocking_mode(g->listener, 0) || !quicc_listen(g->listener))
        return as_fail(g, "listener");
    return true;
}

/* While a server operation waits, the client application's event loop goes on too
 * (in the thread-assisted mode its thread does that). */
static void server_idle(as_ctx *g) {
    if (g->mode != AS_THREAD_ASSISTED && g->c) quicc_handle_events(g->c);
    usleep(500);
}

/* ---- the client side ---- */

static bool client_setup(as_ctx *g) {
    g->cctx = quicc_ctx_new(g->mode == AS_THREAD_ASSISTED ? QUICC_CLIENT_THREAD : QUICC_CLIENT);
    if (!g->cctx || !quicc_ctx_load_verify_file(g->cctx, g->cert))
        return as_fail(g, "client context");
    g->c = quicc_new(g->cctx);
    /* The application's own socket, connected to the server. */
    g->cfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (g->cfd < 0 || connect(g->cfd, (struct sockaddr *)&g->saddr, g->saddr_len) != 0)
        return as_fail(g, "client socket: %s", strerror(errno));
    if (!g->c || !quicc_set_fd(g->c, g->cfd) || !quicc_set_tlsext_host_name(g->c, "localhost") ||
        !quicc_set1_host(g->c, "localhost") ||
        quicc_set_alpn_protos(g->c, (const unsigned char *)AS_ALPN, 11) != 0)
        return as_fail(g, "client connection");
    g->cs[0] = g->c;
    return true;
}

void as_client_idle(as_ctx *g) {
    if (g->mode != AS_THREAD_ASSISTED) {
        struct timeval tv;
        int inf = 1;
        quicc_get_event_timeout(g->c, &tv, &inf);
        int ms = inf ? 5 : (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
        struct pollfd p = {.fd = quicc_get_fd(g->c),
                           .events = POLLIN | (quicc_net_write_desired(g->c) ? POLLOUT : 0)};
        poll(&p, 1, ms > 5 ? 5 : ms);
        quicc_handle_events(g->c);
    } else {
        usleep(500); /* the background thread works for us */
    }
}

/* Client mode after the handshake. */
static void client_mode(as_ctx *g, quicc *s) {
    if (g->mode == AS_BLOCKING) return;
    quicc_set_blocking_mode(s, 0);
}

/* ---- operations ---- */

typedef struct as_thread {
    as_ctx *g;    /* shared */
    as_ctx local; /* this thread's slots */
    const as_op *script;
    pthread_t th;
    bool ok;
} as_thread;

static bool run_ops(as_ctx *g, const as_op *ops);

static quicc *cslot(as_ctx *g, int slot) {
    if (slot < 0 || slot >= AS_SLOTS || !g->cs[slot]) {
        as_fail(g, "client slot %d is empty", slot);
        return NULL;
    }
    return g->cs[slot];
}

static quicc *sslot(as_ctx *g, int slot) {
    if (slot < 0 || slot >= AS_SLOTS || !g->ss[slot]) {
        as_fail(g, "server slot %d is empty", slot);
        return NULL;
    }
    return g->ss[slot];
}

#define DEADLINE() uint64_t deadline_ = as_now_ms() + AS_OP_TIMEOUT_MS
#define TIMED_OUT() (as_now_ms() > deadline_)

static bool c_connect(as_ctx *g) {
    DEADLINE();
    for (;;) {
        int r = quicc_connect(g->c);
        if (r == 1) break;
        int e = quicc_get_error(g->c, r);
        if (e != QUICC_ERROR_WANT_READ || TIMED_OUT())
            return as_fail(g, "connect: %d (error %d)", r, e);
        as_client_idle(g);
    }
    if (g->mode == AS_THREAD_ASSISTED)
        quicc_set_value_uint(g->c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_EVENT_HANDLING_MODE,
                             QUICC_EVENT_HANDLING_MODE_EXPLICIT);
    client_mode(g, g->c);
    /* The server side of the connection. */
    for (;;) {
        g->s = quicc_accept_connection(g->listener, QUICC_ACCEPT_CONNECTION_NO_BLOCK);
        if (g->s) break;
        if (TIMED_OUT()) return as_fail(g, "server did not accept the connection");
        server_idle(g);
    }
    quicc_set_blocking_mode(g->s, 0);
    quicc_set_default_stream_mode(g->s, QUICC_DEFAULT_STREAM_MODE_NONE);
    quicc_set_incoming_stream_policy(g->s, QUICC_INCOMING_STREAM_POLICY_ACCEPT, 0);
    return true;
}

/* Writes all of buf with flags (retrying nonblocking writes with the same data). */
static bool c_write(as_ctx *g, quicc *s, const char *buf, size_t len, uint64_t flags) {
    DEADLINE();
    for (;;) {
        size_t w = 0;
        int r = quicc_write_ex2(s, buf, len, flags, &w);
        if (r == 1) {
            if (w != len) return as_fail(g, "write: %zu of %zu bytes", w, len);
            return true;
        }
        int e = quicc_get_error(s, r);
        if ((e != QUICC_ERROR_WANT_WRITE && e != QUICC_ERROR_WANT_READ) || TIMED_OUT())
            return as_fail(g, "write failed: error %d", e);
        as_client_idle(g);
    }
}

/* Reads exactly len bytes and compares them with want. */
static bool c_read_expect(as_ctx *g, quicc *s, const char *want, size_t len) {
    DEADLINE();
    char *buf = malloc(len + 1);
    size_t got = 0;
    bool ok = true;
    while (got < len) {
        size_t n = 0;
        int r = quicc_read_ex(s, buf + got, len - got, &n);
        if (r == 1) {
            got += n;
            continue;
        }
        int e = quicc_get_error(s, r);
        if (e != QUICC_ERROR_WANT_READ || TIMED_OUT()) {
            ok = as_fail(g, "read: error %d after %zu of %zu bytes", e, got, len);
            break;
        }
        as_client_idle(g);
    }
    if (ok && memcmp(buf, want, len) != 0) ok = as_fail(g, "read: data differ");
    free(buf);
    return ok;
}

/* Expects the stream's FIN: a read returning ZERO_RETURN. */
static bool c_expect_fin(as_ctx *g, quicc *s) {
    DEADLINE();
    for (;;) {
        char b;
        size_t n = 0;
        int r = quicc_read_ex(s, &b, 1, &n);
        if (r == 1) return as_fail(g, "expected FIN, read %zu bytes", n);
        int e = quicc_get_error(s, r);
        if (e == QUICC_ERROR_ZERO_RETURN) return true;
        if (e != QUICC_ERROR_WANT_READ || TIMED_OUT())
            return as_fail(g, "expected FIN, got error %d", e);
        as_client_idle(g);
    }
}

/* A read that fails (not WANT_READ) with err and reason r; wait: retry while WANT_READ. */
static bool c_read_fail(as_ctx *g, quicc *s, int err, unsigned long r, bool wait) {
    DEADLINE();
    for (;;) {
        char b[64];
        size_t n = 0;
        quicc_err_clear();
        int ret = quicc_read_ex(s, b, sizeof(b), &n);
        if (ret == 1) {
            if (wait) continue; /* data before the failure */
            return as_fail(g, "read succeeded (%zu bytes), expected failure", n);
        }
        int e = quicc_get_error(s, ret);
        if (e == QUICC_ERROR_WANT_READ && wait && !TIMED_OUT()) {
            as_client_idle(g);
            continue;
        }
        if (e != err) return as_fail(g, "read error %d, expected %d", e, err);
        return r == QUICC_R_NONE ? true : as_expect_reason(g, r);
    }
}

static bool wait_state(as_ctx *g, quicc *s, bool reading, int want, bool server) {
    DEADLINE();
    for (;;) {
        int st = reading ? quicc_get_stream_read_state(s) : quicc_get_stream_write_state(s);
        if (st == want) return true;
        if (TIMED_OUT())
            return as_fail(g, "%s state %d, expected %d", reading ? "read" : "write", st, want);
        if (server)
            server_idle(g);
        else
            as_client_idle(g);
    }
}

static bool wait_code(as_ctx *g, quicc *s, bool reading, int want_ret, uint64_t want_code,
                      bool server) {
    DEADLINE();
    for (;;) {
        uint64_t code = UINT64_MAX;
        int r = reading ? quicc_get_stream_read_error_code(s, &code)
                        : quicc_get_stream_write_error_code(s, &code);
        if (r == want_ret && (r != 1 || code == want_code)) return true;
        if (TIMED_OUT())
            return as_fail(g, "%s error code: %d/%llu, expected %d/%llu",
                           reading ? "read" : "write", r, (unsigned long long)code, want_ret,
                           (unsigned long long)want_code);
        if (server)
            server_idle(g);
        else
            as_client_idle(g);
    }
}

static bool close_info(as_ctx *g, quicc *conn, const as_op *op, bool server) {
    DEADLINE();
    quicc_conn_close_info ci;
    while (!quicc_get_conn_close_info(conn, &ci)) {
        if (TIMED_OUT()) return as_fail(g, "no close info");
        if (server)
            server_idle(g);
        else
            as_client_idle(g);
    }
    if (ci.error_code != op->a || ci.flags != op->b)
        return as_fail(g, "close info: code %llu flags %u, expected code %llu flags %llu",
                       (unsigned long long)ci.error_code, ci.flags, (unsigned long long)op->a,
                       (unsigned long long)op->b);
    if (op->str && (ci.reason_len != strlen(op->str) || memcmp(ci.reason, op->str, ci.reason_len)))
        return as_fail(g, "close reason \"%.*s\", expected \"%s\"", (int)ci.reason_len, ci.reason,
                       op->str);
    return true;
}

static bool s_read_expect(as_ctx *g, quicc *s, const char *want, size_t len) {
    DEADLINE();
    char *buf = malloc(len + 1);
    size_t got = 0;
    bool ok = true;
    while (got < len) {
        size_t n = 0;
        int r = quicc_read_ex(s, buf + got, len - got, &n);
        if (r == 1) {
            got += n;
            continue;
        }
        if (quicc_get_error(s, r) != QUICC_ERROR_WANT_READ || TIMED_OUT()) {
            ok = as_fail(g, "server read: error %d after %zu of %zu bytes", quicc_get_error(s, r),
                         got, len);
            break;
        }
        server_idle(g);
    }
    if (ok && memcmp(buf, want, len) != 0) ok = as_fail(g, "server read: data differ");
    free(buf);
    return ok;
}

static quicc *s_accept(as_ctx *g) {
    if (g->nbacklog > 0) {
        quicc *st = g->backlog[0];
        memmove(g->backlog, g->backlog + 1, --g->nbacklog * sizeof(g->backlog[0]));
        return st;
    }
    DEADLINE();
    for (;;) {
        quicc *st = quicc_accept_stream(g->s, QUICC_ACCEPT_STREAM_NO_BLOCK);
        if (st) return st;
        if (TIMED_OUT()) {
            as_fail(g, "server: no incoming stream");
            return NULL;
        }
        server_idle(g);
    }
}

/* Starts a key update, retrying while the previous one is unconfirmed. */
static bool key_update(as_ctx *g, bool server) {
    DEADLINE();
    while (!quicc_key_update(server ? g->s : g->c, server ? QUICC_KEY_UPDATE_NOT_REQUESTED
                                                          : QUICC_KEY_UPDATE_REQUESTED)) {
        unsigned long e = quicc_err_get();
        quicc_err_clear();
        if (e != QUICC_R_KEY_UPDATE_PENDING || TIMED_OUT())
            return as_fail(g, "%s key_update: reason %lu", server ? "server" : "client", e);
        if (server)
            server_idle(g);
        else
            as_client_idle(g);
    }
    return true;
}

static void *thread_main(void *arg) {
    as_thread *t = arg;
    t->ok = run_ops(&t->local, t->script);
    return NULL;
}

static bool run_one(as_ctx *g, const as_op *op, as_thread **threads, size_t *nthreads) {
    quicc *s;
    quicc_err_clear();
    switch (op->op) {
    case AS_C_CONNECT_WAIT:
        return c_connect(g);
    case AS_C_SET_DEFAULT_STREAM_MODE:
        if (!quicc_set_default_stream_mode(g->c, (uint32_t)op->a))
            return as_fail(g, "set_default_stream_mode");
        return true;
    case AS_C_SET_INCOMING_POLICY:
        if (!quicc_set_incoming_stream_policy(g->c, (int)op->a, op->b))
            return as_fail(g, "set_incoming_stream_policy");
        return true;
    case AS_C_WRITE:
    case AS_C_WRITE_EX2:
        if (!(s = cslot(g, op->slot))) return false;
        return c_write(g, s, op->str, strlen(op->str), op->op == AS_C_WRITE ? 0 : op->a);
    case AS_C_READ_EXPECT:
        if (!(s = cslot(g, op->slot))) return false;
        return c_read_expect(g, s, op->str, strlen(op->str));
    case AS_C_EXPECT_FIN:
        if (!(s = cslot(g, op->slot))) return false;
        return c_expect_fin(g, s);
    case AS_C_CONCLUDE:
        if (!(s = cslot(g, op->slot))) return false;
        if (!quicc_stream_conclude(s, 0)) return as_fail(g, "conclude");
        return true;
    case AS_C_NEW_STREAM: {
        DEADLINE();
        for (;;) {
            quicc *st = quicc_new_stream(g->c, op->a);
            if (st) {
                if (op->slot <= 0 || op->slot >= AS_SLOTS || g->cs[op->slot]) {
                    quicc_free(st);
                    return as_fail(g, "bad slot %d", op->slot);
                }
                client_mode(g, st);
                g->cs[op->slot] = st;
                return true;
            }
            /* Nonblocking: no credit yet is an error the application retries. */
            unsigned long e = quicc_err_get();
            quicc_err_clear();
            if (g->mode == AS_BLOCKING || (op->a & QUICC_STREAM_FLAG_NO_BLOCK) ||
                e != QUICC_R_STREAM_COUNT_LIMITED || TIMED_OUT())
                return as_fail(g, "new_stream: reason %lu", e);
            as_client_idle(g);
        }
    }
    case AS_C_NEW_STREAM_FAIL: {
        quicc *st = quicc_new_stream(g->c, op->a);
        if (st) {
            quicc_free(st);
            return as_fail(g, "new_stream succeeded, expected failure");
        }
        int e = quicc_get_error(g->c, 0);
        if (e != (int)op->b) return as_fail(g, "new_stream error %d, expected %d", e, (int)op->b);
        return as_expect_reason(g, op->c);
    }
    case AS_C_ACCEPT_STREAM_WAIT: {
        DEADLINE();
        if (op->slot <= 0 || op->slot >= AS_SLOTS || g->cs[op->slot])
            return as_fail(g, "bad slot %d", op->slot);
        for (;;) {
            quicc *st = quicc_accept_stream(
                g->c, g->mode == AS_BLOCKING ? 0 : QUICC_ACCEPT_STREAM_NO_BLOCK);
            if (st) {
                client_mode(g, st);
                g->cs[op->slot] = st;
                return true;
            }
            if (g->mode == AS_BLOCKING || TIMED_OUT()) return as_fail(g, "accept_stream");
            as_client_idle(g);
        }
    }
    case AS_C_ACCEPT_STREAM_NONE: {
        quicc *st = quicc_accept_stream(g->c, QUICC_ACCEPT_STREAM_NO_BLOCK);
        if (st) {
            quicc_free(st);
            return as_fail(g, "accept_stream: unexpected stream");
        }
        if (quicc_get_error(g->c, 0) != QUICC_ERROR_WANT_READ)
            return as_fail(g, "accept_stream: error %d, expected WANT_READ",
                           quicc_get_error(g->c, 0));
        return true;
    }
    case AS_C_FREE_STREAM:
        if (!(s = cslot(g, op->slot))) return false;
        if (op->slot == 0) return as_fail(g, "slot 0 is the connection");
        quicc_free(s);
        g->cs[op->slot] = NULL;
        return true;
    case AS_C_DETACH:
        if (op->slot <= 0 || op->slot >= AS_SLOTS || g->cs[op->slot])
            return as_fail(g, "bad slot %d", op->slot);
        if (!(g->cs[op->slot] = quicc_detach_stream(g->c))) return as_fail(g, "detach");
        if (quicc_is_connection(g->cs[op->slot]) || quicc_get0_connection(g->cs[op->slot]) != g->c)
            return as_fail(g, "detached stream: wrong kind or connection");
        return true;
    case AS_C_ATTACH:
        if (!(s = cslot(g, op->slot))) return false;
        if (!quicc_attach_stream(g->c, s)) return as_fail(g, "attach");
        g->cs[op->slot] = NULL;
        return true;
    case AS_C_STREAM_RESET:
        if (!(s = cslot(g, op->slot))) return false;
        if (!quicc_stream_reset(s, op->a)) return as_fail(g, "stream_reset");
        return true;
    case AS_C_STREAM_RESET_FAIL: {
        if (!(s = cslot(g, op->slot))) return false;
        int r = quicc_stream_reset(s, op->a);
        if (r == 1) return as_fail(g, "stream_reset succeeded, expected failure");
        int e = quicc_get_error(s, r);
        if (e != (int)op->b) return as_fail(g, "reset error %d, expected %d", e, (int)op->b);
        return as_expect_reason(g, op->c);
    }
    case AS_C_WRITE_FAIL: {
        if (!(s = cslot(g, op->slot))) return false;
        size_t w = 0;
        int r = quicc_write_ex(s, "x", 1, &w);
        if (r == 1) return as_fail(g, "write succeeded, expected failure");
        int e = quicc_get_error(s, r);
        if (e != (int)op->a) return as_fail(g, "write error %d, expected %d", e, (int)op->a);
        return as_expect_reason(g, op->b);
    }
    case AS_C_READ_FAIL:
    case AS_C_READ_FAIL_WAIT:
        if (!(s = cslot(g, op->slot))) return false;
        return c_read_fail(g, s, (int)op->a, op->b, op->op == AS_C_READ_FAIL_WAIT);
    case AS_C_EXPECT_READ_STATE:
    case AS_C_EXPECT_WRITE_STATE:
        if (!(s = cslot(g, op->slot))) return false;
        return wait_state(g, s, op->op == AS_C_EXPECT_READ_STATE, (int)op->a, false);
    case AS_C_EXPECT_READ_CODE:
    case AS_C_EXPECT_WRITE_CODE:
        if (!(s = cslot(g, op->slot))) return false;
        return wait_code(g, s, op->op == AS_C_EXPECT_READ_CODE, (int)(int64_t)op->a, op->b, false);
    case AS_C_EXPECT_STREAM:
        if (!(s = cslot(g, op->slot))) return false;
        if (quicc_get_stream_id(s) != op->a || quicc_get_stream_type(s) != (int)op->b ||
            quicc_is_stream_local(s) != (int)op->c)
            return as_fail(g, "stream id %llu type %d local %d, expected %llu %d %d",
                           (unsigned long long)quicc_get_stream_id(s), quicc_get_stream_type(s),
                           quicc_is_stream_local(s), (unsigned long long)op->a, (int)op->b,
                           (int)op->c);
        return true;
    case AS_C_SHUTDOWN: {
        DEADLINE();
        quicc_shutdown_ex_args args = {.quic_error_code = op->b, .quic_reason = op->str};
        for (;;) {
            int r = quicc_shutdown_ex(g->c, op->a, &args);
            if (r == 1) return true;
            if (r < 0 || TIMED_OUT()) return as_fail(g, "shutdown: %d", r);
            if (g->mode == AS_BLOCKING && !(op->a & QUICC_SHUTDOWN_FLAG_NO_BLOCK))
                return as_fail(g, "blocking shutdown returned %d", r);
            as_client_idle(g);
        }
    }
    case AS_C_EXPECT_CONN_CLOSE_INFO:
        return close_info(g, g->c, op, false);
    case AS_C_EXPECT_VALUE: {
        if (!(s = cslot(g, op->slot))) return false;
        uint64_t v = UINT64_MAX;
        if (!quicc_get_value_uint(s, (uint32_t)op->a, (uint32_t)op->b, &v) || v != op->c)
            return as_fail(g, "value %llu/%llu = %llu, expected %llu", (unsigned long long)op->a,
                           (unsigned long long)op->b, (unsigned long long)v,
                           (unsigned long long)op->c);
        return true;
    }
    case AS_C_SET_VALUE: {
        if (!(s = cslot(g, op->slot))) return false;
        int r = quicc_set_value_uint(s, (uint32_t)op->a, (uint32_t)op->b, op->c);
        if (op->str) { /* expected to fail */
            if (r) return as_fail(g, "set_value succeeded, expected failure");
            return as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT);
        }
        if (!r) return as_fail(g, "set_value");
        return true;
    }
    case AS_C_KEY_UPDATE:
        return key_update(g, false);
    case AS_C_CLOSE_SOCKET: {
        /* Replace the socket with something that is not one: every socket call now fails
         * (the descriptor number stays ours, so nothing else can reuse it). */
        int nul = open("/dev/null", O_RDWR);
        if (nul < 0 || dup2(nul, g->cfd) < 0) return as_fail(g, "dup2: %s", strerror(errno));
        close(nul);
        return true;
    }
    case AS_C_EXPECT_QUEUE_LEN: {
        DEADLINE();
        size_t n;
        while ((n = quicc_get_accept_stream_queue_len(g->c)) != op->a) {
            if (TIMED_OUT())
                return as_fail(g, "accept queue %zu, expected %llu", n, (unsigned long long)op->a);
            as_client_idle(g);
        }
        return true;
    }
    case AS_S_NEW_STREAM: {
        if (op->slot <= 0 || op->slot >= AS_SLOTS || g->ss[op->slot])
            return as_fail(g, "bad server slot %d", op->slot);
        quicc *st = quicc_new_stream(g->s, op->a ? QUICC_STREAM_FLAG_UNI : 0);
        if (!st) return as_fail(g, "server new_stream");
        g->ss[op->slot] = st;
        return true;
    }
    case AS_S_ACCEPT_STREAM_WAIT:
        if (op->slot <= 0 || op->slot >= AS_SLOTS || g->ss[op->slot])
            return as_fail(g, "bad server slot %d", op->slot);
        return (g->ss[op->slot] = s_accept(g)) != NULL;
    case AS_S_BIND_STREAM_ID: {
        if (op->slot <= 0 || op->slot >= AS_SLOTS || g->ss[op->slot])
            return as_fail(g, "bad server slot %d", op->slot);
        for (size_t i = 0; i < g->nbacklog; i++) {
            if (quicc_get_stream_id(g->backlog[i]) == op->a) {
                g->ss[op->slot] = g->backlog[i];
                memmove(g->backlog + i, g->backlog + i + 1,
                        (--g->nbacklog - i) * sizeof(g->backlog[0]));
                return true;
            }
        }
        for (;;) {
            size_t keep = g->nbacklog;
            g->nbacklog = 0; /* s_accept: straight from the connection */
            quicc *st = s_accept(g);
            g->nbacklog = keep;
            if (!st) return false;
            if (quicc_get_stream_id(st) == op->a) {
                g->ss[op->slot] = st;
                return true;
            }
            if (g->nbacklog == QC_ARRAY_LEN(g->backlog)) return as_fail(g, "backlog full");
            g->backlog[g->nbacklog++] = st;
        }
    }
    case AS_S_ACCEPT_STREAM_NONE: {
        quicc *st = quicc_accept_stream(g->s, QUICC_ACCEPT_STREAM_NO_BLOCK);
        if (st) {
            quicc_free(st);
            return as_fail(g, "server: unexpected incoming stream");
        }
        return true;
    }
    case AS_S_WRITE: {
        if (!(s = sslot(g, op->slot))) return false;
        DEADLINE();
        size_t len = strlen(op->str), w = 0;
        /* A nonblocking write retried after WANT_WRITE passes the same arguments. */
        while (quicc_write_ex(s, op->str, len, &w) != 1) {
            if (quicc_get_error(s, 0) != QUICC_ERROR_WANT_WRITE || TIMED_OUT())
                return as_fail(g, "server write: error %d", quicc_get_error(s, 0));
            server_idle(g);
        }
        if (w != len) return as_fail(g, "server write: %zu of %zu bytes", w, len);
        return true;
    }
    case AS_S_CONCLUDE:
        if (!(s = sslot(g, op->slot))) return false;
        if (!quicc_stream_conclude(s, 0)) return as_fail(g, "server conclude");
        return true;
    case AS_S_READ_EXPECT:
        if (!(s = sslot(g, op->slot))) return false;
        return s_read_expect(g, s, op->str, strlen(op->str));
    case AS_S_EXPECT_FIN: {
        if (!(s = sslot(g, op->slot))) return false;
        DEADLINE();
        for (;;) {
            char b;
            size_t n;
            int r = quicc_read_ex(s, &b, 1, &n);
            if (r == 1) return as_fail(g, "server: expected FIN, got data");
            int e = quicc_get_error(s, r);
            if (e == QUICC_ERROR_ZERO_RETURN) return true;
            if (e != QUICC_ERROR_WANT_READ || TIMED_OUT())
                return as_fail(g, "server: expected FIN, error %d", e);
            server_idle(g);
        }
    }
    case AS_S_STREAM_RESET:
        if (!(s = sslot(g, op->slot))) return false;
        if (!quicc_stream_reset(s, op->a)) return as_fail(g, "server stream_reset");
        return true;
    case AS_S_EXPECT_READ_CODE:
    case AS_S_EXPECT_WRITE_CODE:
        if (!(s = sslot(g, op->slot))) return false;
        return wait_code(g, s, op->op == AS_S_EXPECT_READ_CODE, (int)(int64_t)op->a, op->b, true);
    case AS_S_FREE_STREAM:
        if (!(s = sslot(g, op->slot))) return false;
        quicc_free(s);
        g->ss[op->slot] = NULL;
        return true;
    case AS_S_SHUTDOWN: {
        DEADLINE();
        quicc_shutdown_ex_args args = {.quic_error_code = op->b, .quic_reason = op->str};
        for (;;) {
            int r = quicc_shutdown_ex(g->s, op->a, &args);
            if (r == 1) return true;
            if (r < 0 || TIMED_OUT()) return as_fail(g, "server shutdown: %d", r);
            server_idle(g);
        }
    }
    case AS_S_EXPECT_CONN_CLOSE_INFO:
        return close_info(g, g->s, op, true);
    case AS_S_NEW_TICKET: {
        qc_api_conn *c = g->s->c;
        pthread_mutex_lock(c->lock);
        int rv = qc_tls_send_ticket((qc_hs *)qc_conn_hs(c->engine));
        pthread_mutex_unlock(c->lock);
        if (rv) return as_fail(g, "server ticket: %d", rv);
        quicc_handle_events(g->s);
        return true;
    }
    case AS_S_KEY_UPDATE:
        return key_update(g, true);
    case AS_SLEEP: {
        uint64_t end = as_now_ms() + op->a;
        while (as_now_ms() < end)
            as_client_idle(g);
        return true;
    }
    case AS_NEW_THREADS: {
        for (uint64_t i = 0; i < op->a; i++) {
            as_thread *t = calloc(1, sizeof(*t));
            t->g = g;
            t->local = *g;
            memset(t->local.cs, 0, sizeof(t->local.cs));
            t->local.cs[0] = g->c;
            t->script = op->sub;
            if (pthread_create(&t->th, NULL, thread_main, t) != 0) {
                free(t);
                return as_fail(g, "pthread_create");
            }
            threads[(*nthreads)++] = t;
        }
        return true;
    }
    case AS_JOIN_THREADS: {
        bool ok = true;
        for (size_t i = 0; i < *nthreads; i++) {
            pthread_join(threads[i]->th, NULL);
            ok &= threads[i]->ok;
            for (int k = 1; k < AS_SLOTS; k++)
                if (threads[i]->local.cs[k]) quicc_free(threads[i]->local.cs[k]);
            free(threads[i]);
        }
        *nthreads = 0;
        return ok ? true : as_fail(g, "a thread failed");
    }
    case AS_CHECK:
        return op->fn(g);
    case AS_SET_IDLE_TIMEOUT:
        if (!quicc_set_value_uint(g->c, QUICC_VALUE_CLASS_FEATURE_REQUEST,
                                  QUICC_VALUE_QUIC_IDLE_TIMEOUT, op->a))
            return as_fail(g, "set idle timeout");
        return true;
    default:
        return as_fail(g, "unknown op %d", op->op);
    }
}

bool as_run_op(as_ctx *g, const as_op *op) {
    size_t n = 0;
    return run_one(g, op, NULL, &n);
}

static bool run_ops(as_ctx *g, const as_op *ops) {
    as_thread *threads[64];
    size_t nthreads = 0;
    bool ok = true;
    int repeat_start = -1;
    uint64_t repeat_left = 0;
    for (int i = 0; ops[i].op != AS_END && ok; i++) {
        g->opno = i;
        if (ops[i].op == AS_BEGIN_REPEAT) {
            repeat_start = i;
            repeat_left = ops[i].a;
            continue;
        }
        if (ops[i].op == AS_END_REPEAT) {
            if (--repeat_left > 0) i = repeat_start;
            continue;
        }
        if (ops[i].op == AS_NEW_THREADS && nthreads + ops[i].a > QC_ARRAY_LEN(threads)) {
            ok = as_fail(g, "too many threads");
            break;
        }
        ok = run_one(g, &ops[i], threads, &nthreads);
    }
    if (nthreads) {
        as_op join = {.op = AS_JOIN_THREADS};
        ok &= run_one(g, &join, threads, &nthreads);
    }
    return ok && !g->failed;
}

bool as_run(const char *name, const as_op *script, enum as_mode mode) {
    as_ctx *g = calloc(1, sizeof(*g));
    g->mode = mode;
    g->script = name;
    g->lfd = g->cfd = -1;
    pump p = {.g = g};
    bool ok = server_setup(g) && client_setup(g);
    bool pumping = false;
    if (ok) pumping = pthread_create(&p.th, NULL, pump_main, &p) == 0;
    if (ok && pumping) ok = run_ops(g, script);
    /* Teardown: streams before connections, connections before the listener. */
    for (int k = 1; k < AS_SLOTS; k++)
        quicc_free(g->cs[k]);
    for (int k = 0; k < AS_SLOTS; k++)
        quicc_free(g->ss[k]);
    for (size_t k = 0; k < g->nbacklog; k++)
        quicc_free(g->backlog[k]);
    quicc_free(g->c);
    quicc_free(g->s);
    if (pumping) {
        atomic_store(&p.stop, true);
        pthread_join(p.th, NULL);
    }
    quicc_free(g->listener);
    quicc_ctx_free(g->cctx);
    quicc_ctx_free(g->sctx);
    if (g->cfd >= 0) close(g->cfd);
    if (g->lfd >= 0) close(g->lfd);
    unlink(g->cert);
    unlink(g->key);
    rmdir(g->dir);
    quicc_err_clear();
    free(g);
    return ok;
}
