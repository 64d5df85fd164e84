/*
 * apiscript.h: a script interpreter for API scenario tests, in the manner of
 * OpenSSL's quic_multistream_test.c. A script is an array of operations on a
 * quicc client connection ("C_" ops, the code under test) and an in-process
 * quicc server ("S_" ops, the peer). The same script runs in three client
 * modes: blocking calls; nonblocking calls with the application driving
 * quicc_handle_events; and thread-assisted (QUICC_CLIENT_THREAD) with
 * nonblocking calls in the explicit event-handling mode, so that only the
 * background thread does network work.
 *
 * Streams are named by slots: client slot 0 is the connection object itself
 * (its default stream); slots 1.. hold stream objects. Server slots hold the
 * server's stream objects. Every data check is byte for byte; every failure
 * check names the exact quicc_get_error() value and error-queue reason.
 */
#ifndef QC_APISCRIPT_H
#define QC_APISCRIPT_H

#include "quicc.h"

#include <stdbool.h>
#include <stdint.h>

enum as_mode { AS_BLOCKING, AS_NONBLOCKING, AS_THREAD_ASSISTED, AS_MODES };

#define AS_SLOTS 16

struct as_ctx;
typedef struct as_op {
    int op;
    int slot;
    uint64_t a, b, c;
    const char *str;
    const struct as_op *sub;
    bool (*fn)(struct as_ctx *g);
} as_op;

/* The state a script runs in (custom checks may use it). */
typedef struct as_ctx {
    enum as_mode mode;
    const char *script;
    quicc_ctx *cctx, *sctx;
    quicc *listener;
    int lfd, cfd;
    struct sockaddr_storage saddr;
    socklen_t saddr_len;
    quicc *c;            /* client connection */
    quicc *cs[AS_SLOTS]; /* client stream objects (cs[0] == c) */
    quicc *s;            /* server connection */
    quicc *ss[AS_SLOTS]; /* server stream objects */
    quicc *backlog[256]; /* server streams accepted while looking for another */
    size_t nbacklog;
    uint64_t idle_timeout_ms; /* client's, before connecting (0: library default) */
    char dir[64], cert[96], key[96];
    int opno;
    bool failed;
} as_ctx;

enum {
    AS_END = 0,
    /* client */
    AS_C_CONNECT_WAIT,
    AS_C_SET_DEFAULT_STREAM_MODE,
    AS_C_SET_INCOMING_POLICY,
    AS_C_WRITE,
    AS_C_WRITE_EX2,
    AS_C_READ_EXPECT,
    AS_C_EXPECT_FIN,
    AS_C_CONCLUDE,
    AS_C_NEW_STREAM,
    AS_C_NEW_STREAM_FAIL,
    AS_C_ACCEPT_STREAM_WAIT,
    AS_C_ACCEPT_STREAM_NONE,
    AS_C_FREE_STREAM,
    AS_C_DETACH,
    AS_C_ATTACH,
    AS_C_STREAM_RESET,
    AS_C_STREAM_RESET_FAIL,
    AS_C_WRITE_FAIL,
    AS_C_READ_FAIL,
    AS_C_READ_FAIL_WAIT,
    AS_C_EXPECT_READ_STATE,
    AS_C_EXPECT_WRITE_STATE,
    AS_C_EXPECT_READ_CODE,
    AS_C_EXPECT_WRITE_CODE,
    AS_C_EXPECT_STREAM,
    AS_C_SHUTDOWN,
    AS_C_EXPECT_CONN_CLOSE_INFO,
    AS_C_EXPECT_VALUE,
    AS_C_SET_VALUE,
    AS_C_KEY_UPDATE,
    AS_C_CLOSE_SOCKET,
    AS_C_EXPECT_QUEUE_LEN,
    /* server */
    AS_S_NEW_STREAM,
    AS_S_ACCEPT_STREAM_WAIT,
    AS_S_BIND_STREAM_ID,
    AS_S_ACCEPT_STREAM_NONE,
    AS_S_WRITE,
    AS_S_CONCLUDE,
    AS_S_READ_EXPECT,
    AS_S_EXPECT_FIN,
    AS_S_STREAM_RESET,
    AS_S_EXPECT_READ_CODE,
    AS_S_EXPECT_WRITE_CODE,
    AS_S_FREE_STREAM,
    AS_S_SHUTDOWN,
    AS_S_EXPECT_CONN_CLOSE_INFO,
    AS_S_NEW_TICKET,
    AS_S_KEY_UPDATE,
    /* control */
    AS_SLEEP,
    AS_BEGIN_REPEAT,
    AS_END_REPEAT,
    AS_NEW_THREADS,
    AS_JOIN_THREADS,
    AS_CHECK,
    AS_SET_IDLE_TIMEOUT,
};

#define AS_OP(o, sl, x, y, z, s, sb, f)                                                            \
    { (o), (sl), (uint64_t)(x), (uint64_t)(y), (uint64_t)(z), (s), (sb), (f) }
#define OP_END AS_OP(AS_END, 0, 0, 0, 0, NULL, NULL, NULL)
#define OP_C_CONNECT_WAIT() AS_OP(AS_C_CONNECT_WAIT, 0, 0, 0, 0, NULL, NULL, NULL)
#define OP_C_SET_DEFAULT_STREAM_MODE(m)                                                            \
    AS_OP(AS_C_SET_DEFAULT_STREAM_MODE, 0, m, 0, 0, NULL, NULL, NULL)
#define OP_C_SET_INCOMING_POLICY(p, aec)                                                           \
    AS_OP(AS_C_SET_INCOMING_POLICY, 0, p, aec, 0, NULL, NULL, NULL)
#define OP_C_WRITE(sl, s) AS_OP(AS_C_WRITE, sl, 0, 0, 0, s, NULL, NULL)
#define OP_C_WRITE_EX2(sl, s, fl) AS_OP(AS_C_WRITE_EX2, sl, fl, 0, 0, s, NULL, NULL)
#define OP_C_READ_EXPECT(sl, s) AS_OP(AS_C_READ_EXPECT, sl, 0, 0, 0, s, NULL, NULL)
#define OP_C_EXPECT_FIN(sl) AS_OP(AS_C_EXPECT_FIN, sl, 0, 0, 0, NULL, NULL, NULL)
#define OP_C_CONCLUDE(sl) AS_OP(AS_C_CONCLUDE, sl, 0, 0, 0, NULL, NULL, NULL)
#define OP_C_NEW_STREAM(sl, fl) AS_OP(AS_C_NEW_STREAM, sl, fl, 0, 0, NULL, NULL, NULL)
/* new_stream fails: quicc_get_error() == err, reason r */
#define OP_C_NEW_STREAM_FAIL(fl, err, r)                                                           \
    AS_OP(AS_C_NEW_STREAM_FAIL, 0, fl, err, r, NULL, NULL, NULL)
#define OP_C_ACCEPT_STREAM_WAIT(sl) AS_OP(AS_C_ACCEPT_STREAM_WAIT, sl, 0, 0, 0, NULL, NULL, NULL)
#define OP_C_ACCEPT_STREAM_NONE() AS_OP(AS_C_ACCEPT_STREAM_NONE, 0, 0, 0, 0, NULL, NULL, NULL)
#define OP_C_FREE_STREAM(sl) AS_OP(AS_C_FREE_STREAM, sl, 0, 0, 0, NULL, NULL, NULL)
#define OP_C_DETACH(sl) AS_OP(AS_C_DETACH, sl, 0, 0, 0, NULL, NULL, NULL)
#define OP_C_ATTACH(sl) AS_OP(AS_C_ATTACH, sl, 0, 0, 0, NULL, NULL, NULL)
#define OP_C_STREAM_RESET(sl, aec) AS_OP(AS_C_STREAM_RESET, sl, aec, 0, 0, NULL, NULL, NULL)
#define OP_C_STREAM_RESET_FAIL(sl, aec, err, r)                                                    \
    AS_OP(AS_C_STREAM_RESET_FAIL, sl, aec, err, r, NULL, NULL, NULL)
#define OP_C_WRITE_FAIL(sl, err, r) AS_OP(AS_C_WRITE_FAIL, sl, err, r, 0, NULL, NULL, NULL)
#define OP_C_READ_FAIL(sl, err, r) AS_OP(AS_C_READ_FAIL, sl, err, r, 0, NULL, NULL, NULL)
#define OP_C_READ_FAIL_WAIT(sl, err, r) AS_OP(AS_C_READ_FAIL_WAIT, sl, err, r, 0, NULL, NULL, NULL)
#define OP_C_EXPECT_READ_STATE(sl, st) AS_OP(AS_C_EXPECT_READ_STATE, sl, st, 0, 0, NULL, NULL, NULL)
#define OP_C_EXPECT_WRITE_STATE(sl, st)                                                            \
    AS_OP(AS_C_EXPECT_WRITE_STATE, sl, st, 0, 0, NULL, NULL, NULL)
/* quicc_get_stream_{read,write}_error_code returns ret with *code == code */
#define OP_C_EXPECT_READ_CODE(sl, ret, code)                                                       \
    AS_OP(AS_C_EXPECT_READ_CODE, sl, ret, code, 0, NULL, NULL, NULL)
#define OP_C_EXPECT_WRITE_CODE(sl, ret, code)                                                      \
    AS_OP(AS_C_EXPECT_WRITE_CODE, sl, ret, code, 0, NULL, NULL, NULL)
/* stream id, type and is-local of a slot */
#define OP_C_EXPECT_STREAM(sl, id, type, local)                                                    \
    AS_OP(AS_C_EXPECT_STREAM, sl, id, type, local, NULL, NULL, NULL)
#define OP_C_SHUTDOWN(fl, code, reason) AS_OP(AS_C_SHUTDOWN, 0, fl, code, 0, reason, NULL, NULL)
/* close info: error code, QUICC_CONN_CLOSE_FLAG_* flags, reason (NULL: not checked) */
#define OP_C_EXPECT_CONN_CLOSE_INFO(code, fl, reason)                                              \
    AS_OP(AS_C_EXPECT_CONN_CLOSE_INFO, 0, code, fl, 0, reason, NULL, NULL)
#define OP_C_EXPECT_VALUE(sl, cls, id, v) AS_OP(AS_C_EXPECT_VALUE, sl, cls, id, v, NULL, NULL, NULL)
#define OP_C_SET_VALUE(sl, cls, id, v) AS_OP(AS_C_SET_VALUE, sl, cls, id, v, NULL, NULL, NULL)
#define OP_C_SET_VALUE_FAIL(sl, cls, id, v)                                                        \
    AS_OP(AS_C_SET_VALUE, sl, cls, id, v, "fail", NULL, NULL)
#define OP_C_KEY_UPDATE() AS_OP(AS_C_KEY_UPDATE, 0, 0, 0, 0, NULL, NULL, NULL)
#define OP_C_CLOSE_SOCKET() AS_OP(AS_C_CLOSE_SOCKET, 0, 0, 0, 0, NULL, NULL, NULL)
#define OP_C_EXPECT_QUEUE_LEN(n) AS_OP(AS_C_EXPECT_QUEUE_LEN, 0, n, 0, 0, NULL, NULL, NULL)
#define OP_S_NEW_STREAM(sl, uni) AS_OP(AS_S_NEW_STREAM, sl, uni, 0, 0, NULL, NULL, NULL)
#define OP_S_ACCEPT_STREAM_WAIT(sl) AS_OP(AS_S_ACCEPT_STREAM_WAIT, sl, 0, 0, 0, NULL, NULL, NULL)
#define OP_S_BIND_STREAM_ID(sl, id) AS_OP(AS_S_BIND_STREAM_ID, sl, id, 0, 0, NULL, NULL, NULL)
#define OP_S_ACCEPT_STREAM_NONE() AS_OP(AS_S_ACCEPT_STREAM_NONE, 0, 0, 0, 0, NULL, NULL, NULL)
#define OP_S_WRITE(sl, s) AS_OP(AS_S_WRITE, sl, 0, 0, 0, s, NULL, NULL)
#define OP_S_CONCLUDE(sl) AS_OP(AS_S_CONCLUDE, sl, 0, 0, 0, NULL, NULL, NULL)
#define OP_S_READ_EXPECT(sl, s) AS_OP(AS_S_READ_EXPECT, sl, 0, 0, 0, s, NULL, NULL)
#define OP_S_EXPECT_FIN(sl) AS_OP(AS_S_EXPECT_FIN, sl, 0, 0, 0, NULL, NULL, NULL)
#define OP_S_STREAM_RESET(sl, aec) AS_OP(AS_S_STREAM_RESET, sl, aec, 0, 0, NULL, NULL, NULL)
#define OP_S_EXPECT_READ_CODE(sl, ret, code)                                                       \
    AS_OP(AS_S_EXPECT_READ_CODE, sl, ret, code, 0, NULL, NULL, NULL)
#define OP_S_EXPECT_WRITE_CODE(sl, ret, code)                                                      \
    AS_OP(AS_S_EXPECT_WRITE_CODE, sl, ret, code, 0, NULL, NULL, NULL)
#define OP_S_FREE_STREAM(sl) AS_OP(AS_S_FREE_STREAM, sl, 0, 0, 0, NULL, NULL, NULL)
#define OP_S_SHUTDOWN(fl, code, reason) AS_OP(AS_S_SHUTDOWN, 0, fl, code, 0, reason, NULL, NULL)
#define OP_S_EXPECT_CONN_CLOSE_INFO(code, fl, reason)                                              \
    AS_OP(AS_S_EXPECT_CONN_CLOSE_INFO, 0, code, fl, 0, reason, NULL, NULL)
#define OP_S_NEW_TICKET() AS_OP(AS_S_NEW_TICKET, 0, 0, 0, 0, NULL, NULL, NULL)
#define OP_S_KEY_UPDATE() AS_OP(AS_S_KEY_UPDATE, 0, 0, 0, 0, NULL, NULL, NULL)
#define OP_SLEEP(ms) AS_OP(AS_SLEEP, 0, ms, 0, 0, NULL, NULL, NULL)
#define OP_BEGIN_REPEAT(n) AS_OP(AS_BEGIN_REPEAT, 0, n, 0, 0, NULL, NULL, NULL)
#define OP_END_REPEAT() AS_OP(AS_END_REPEAT, 0, 0, 0, 0, NULL, NULL, NULL)
/* n client threads run the sub-script at once, each with its own stream slots */
#define OP_NEW_THREADS(n, script) AS_OP(AS_NEW_THREADS, 0, n, 0, 0, NULL, script, NULL)
#define OP_JOIN_THREADS() AS_OP(AS_JOIN_THREADS, 0, 0, 0, 0, NULL, NULL, NULL)
#define OP_CHECK(f) AS_OP(AS_CHECK, 0, 0, 0, 0, NULL, NULL, f)
#define OP_SET_IDLE_TIMEOUT(ms) AS_OP(AS_SET_IDLE_TIMEOUT, 0, ms, 0, 0, NULL, NULL, NULL)

/* Runs a script in one mode: returns true when every operation succeeded. */
bool as_run(const char *name, const as_op *script, enum as_mode mode);
const char *as_mode_name(enum as_mode mode);

/* For custom checks: report a failure (prints script, mode, op) and return false. */
bool as_fail(as_ctx *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Waits a little for progress in the client's mode (handle events, or sleep). */
void as_client_idle(as_ctx *g);
/* Runs one (non-thread) operation. */
bool as_run_op(as_ctx *g, const as_op *op);
/* Milliseconds since an arbitrary start. */
uint64_t as_now_ms(void);
/* Pops the error queue and checks it holds reason r (and nothing else). */
bool as_expect_reason(as_ctx *g, unsigned long r);

#endif
