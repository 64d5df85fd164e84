/*
 * test_scripts.c: the API scenario suite (tests/support/apiscript.h). Each
 * script runs in the blocking, nonblocking and thread-assisted modes against
 * an in-process quicc server. Numbers follow the OpenSSL
 * quic_multistream_test.c checklist (shared/reference/openssl-quic-api.md);
 * scripts without a number cover the rest of the guide API (error reasons,
 * modes, certificates, poll).
 */
#include "support/apiscript.h"
#include "support/sim.h"

#include "api/api_internal.h"
#include "core/conn_internal.h"
#include "tls/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIDI QUICC_STREAM_TYPE_BIDI
#define RD QUICC_STREAM_TYPE_READ
#define WR QUICC_STREAM_TYPE_WRITE
#define E_SSL QUICC_ERROR_SSL
#define E_SYSCALL QUICC_ERROR_SYSCALL
#define LOCAL QUICC_CONN_CLOSE_FLAG_LOCAL
#define TRANSPORT QUICC_CONN_CLOSE_FLAG_TRANSPORT

static bool stats_values(as_ctx *g) {
    uint64_t sent = 0, recvd = 0, lost = 99, srtt = 0, minrtt = 0, cwnd = 0;
    int ok = quicc_get_value_uint(g->c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_PACKETS_SENT,
                                  &sent) &&
             quicc_get_value_uint(g->c, QUICC_VALUE_CLASS_GENERIC,
                                  QUICC_VALUE_CONN_PACKETS_RECEIVED, &recvd) &&
             quicc_get_value_uint(g->c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_PACKETS_LOST,
                                  &lost) &&
             quicc_get_value_uint(g->c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_SMOOTHED_RTT_US,
                                  &srtt) &&
             quicc_get_value_uint(g->c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_MIN_RTT_US,
                                  &minrtt) &&
             quicc_get_value_uint(g->c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_CWND, &cwnd);
    /* Loopback: a handshake and an exchange; nothing lost; RTTs well under a second. */
    if (!ok || sent < 3 || recvd < 3 || lost != 0 || srtt == 0 || srtt > 1000000 ||
        minrtt > srtt * 8 || cwnd < 2400)
        return as_fail(g, "stats: sent %llu received %llu lost %llu srtt %llu min %llu cwnd %llu",
                       (unsigned long long)sent, (unsigned long long)recvd,
                       (unsigned long long)lost, (unsigned long long)srtt,
                       (unsigned long long)minrtt, (unsigned long long)cwnd);
    return true;
}

/* 1: one stream, both directions, FIN both ways, clean shutdown. */
static const as_op script_1[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "apple"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),
    OP_S_WRITE(1, "orange"),
    OP_C_READ_EXPECT(0, "orange"),
    OP_C_EXPECT_STREAM(0, 0, BIDI, 1),
    OP_C_CONCLUDE(0),
    OP_S_EXPECT_FIN(1),
    OP_S_CONCLUDE(1),
    OP_C_EXPECT_FIN(0),
    OP_C_EXPECT_READ_STATE(0, QUICC_STREAM_STATE_FINISHED),
    OP_C_EXPECT_WRITE_STATE(0, QUICC_STREAM_STATE_FINISHED),
    OP_C_EXPECT_READ_CODE(0, 0, 0),
    OP_CHECK(stats_values),
    OP_C_SHUTDOWN(0, 0, NULL),
    OP_C_EXPECT_CONN_CLOSE_INFO(0, LOCAL, ""),
    OP_S_EXPECT_CONN_CLOSE_INFO(0, 0, ""),
    OP_END,
};

/* 2: several streams of both kinds in both directions, incoming policy ACCEPT. */
static const as_op script_2[] = {
    OP_C_SET_INCOMING_POLICY(QUICC_INCOMING_STREAM_POLICY_ACCEPT, 0),
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "apple"),
    OP_C_NEW_STREAM(1, 0),
    OP_C_NEW_STREAM(2, QUICC_STREAM_FLAG_UNI),
    OP_C_EXPECT_STREAM(1, 4, BIDI, 1),
    OP_C_EXPECT_STREAM(2, 2, WR, 1),
    OP_C_WRITE(1, "orange"),
    OP_C_WRITE(2, "strawberry"),
    OP_C_CONCLUDE(2),
    OP_S_BIND_STREAM_ID(2, 2),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_BIND_STREAM_ID(3, 4),
    OP_S_READ_EXPECT(1, "apple"),
    OP_S_READ_EXPECT(3, "orange"),
    OP_S_READ_EXPECT(2, "strawberry"),
    OP_S_EXPECT_FIN(2),
    OP_S_WRITE(3, "melon"),
    OP_C_READ_EXPECT(1, "melon"),
    OP_S_NEW_STREAM(4, 0),
    OP_S_WRITE(4, "lime"),
    OP_S_NEW_STREAM(5, 1),
    OP_S_WRITE(5, "kiwi"),
    OP_S_CONCLUDE(5),
    OP_C_ACCEPT_STREAM_WAIT(3),
    OP_C_EXPECT_STREAM(3, 1, BIDI, 0),
    OP_C_READ_EXPECT(3, "lime"),
    OP_C_WRITE(3, "lemon"),
    OP_S_READ_EXPECT(4, "lemon"),
    OP_C_ACCEPT_STREAM_WAIT(4),
    OP_C_EXPECT_STREAM(4, 3, RD, 0),
    OP_C_READ_EXPECT(4, "kiwi"),
    OP_C_EXPECT_FIN(4),
    OP_C_WRITE_FAIL(4, E_SSL, QUICC_R_STREAM_RECV_ONLY),
    OP_C_STREAM_RESET_FAIL(4, 7, E_SSL, QUICC_R_STREAM_RECV_ONLY),
    OP_C_READ_FAIL(2, E_SSL, QUICC_R_STREAM_SEND_ONLY),
    OP_C_EXPECT_READ_STATE(2, QUICC_STREAM_STATE_WRONG_DIR),
    OP_C_EXPECT_WRITE_STATE(4, QUICC_STREAM_STATE_WRONG_DIR),
    OP_C_ACCEPT_STREAM_NONE(),
    OP_END,
};

/* 2r: policy REJECT: the peer's streams are stopped and reset with the error code given. */
static const as_op script_2r[] = {
    OP_C_SET_INCOMING_POLICY(QUICC_INCOMING_STREAM_POLICY_REJECT, 123),
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "apple"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),
    OP_S_NEW_STREAM(2, 0),
    OP_S_WRITE(2, "unwanted"),
    OP_S_EXPECT_WRITE_CODE(2, 1, 123),
    OP_S_EXPECT_READ_CODE(2, 1, 123),
    OP_S_NEW_STREAM(3, 1),
    OP_S_WRITE(3, "unwanted too"),
    OP_S_EXPECT_WRITE_CODE(3, 1, 123),
    OP_C_ACCEPT_STREAM_NONE(),
    OP_C_WRITE(0, "still fine"),
    OP_S_READ_EXPECT(1, "still fine"),
    OP_END,
};

/* 2a: policy AUTO while the default stream is in use: incoming streams are rejected (0). */
static const as_op script_2a[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "apple"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),
    OP_S_NEW_STREAM(2, 0),
    OP_S_WRITE(2, "unwanted"),
    OP_S_EXPECT_WRITE_CODE(2, 1, 0),
    OP_C_ACCEPT_STREAM_NONE(),
    OP_END,
};

static bool attach_when_default_exists(as_ctx *g) {
    quicc *st = quicc_new_stream(g->c, 0);
    if (!st) return as_fail(g, "new_stream");
    quicc_err_clear();
    if (quicc_attach_stream(g->c, st)) return as_fail(g, "attach succeeded with a default stream");
    if (!as_expect_reason(g, QUICC_R_DEFAULT_STREAM_EXISTS)) return false;
    if (quicc_attach_stream(st, st)) return as_fail(g, "attach to a stream succeeded");
    if (!as_expect_reason(g, QUICC_R_CONN_USE_ONLY)) return false;
    if (quicc_detach_stream(st)) return as_fail(g, "detach from a stream succeeded");
    if (!as_expect_reason(g, QUICC_R_CONN_USE_ONLY)) return false;
    quicc_free(st);
    return true;
}

/* 3: detach the default stream, use it as a stream object, attach it back. */
static const as_op script_3[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "apple"),
    OP_C_DETACH(1),
    OP_C_EXPECT_STREAM(1, 0, BIDI, 1),
    OP_C_EXPECT_STREAM(0, UINT64_MAX, QUICC_STREAM_TYPE_NONE, -1),
    OP_C_WRITE(1, "orange"),
    OP_C_WRITE_FAIL(0, E_SSL, QUICC_R_NO_STREAM),
    OP_C_READ_FAIL(0, E_SSL, QUICC_R_NO_STREAM),
    OP_C_ATTACH(1),
    OP_C_WRITE(0, "pear"),
    OP_CHECK(attach_when_default_exists),
    OP_C_CONCLUDE(0),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "appleorangepear"),
    OP_S_EXPECT_FIN(1),
    OP_S_WRITE(1, "back"),
    OP_C_READ_EXPECT(0, "back"),
    OP_END,
};

/* 4: default stream mode NONE: the connection object carries no stream. */
static const as_op script_4[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE_FAIL(0, E_SSL, QUICC_R_NO_STREAM),
    OP_C_READ_FAIL(0, E_SSL, QUICC_R_NO_STREAM),
    OP_C_EXPECT_STREAM(0, UINT64_MAX, QUICC_STREAM_TYPE_NONE, -1),
    OP_C_EXPECT_READ_STATE(0, QUICC_STREAM_STATE_NONE),
    OP_C_EXPECT_WRITE_STATE(0, QUICC_STREAM_STATE_NONE),
    OP_C_NEW_STREAM(1, 0),
    OP_C_EXPECT_READ_STATE(1, QUICC_STREAM_STATE_OK),
    OP_C_EXPECT_WRITE_STATE(1, QUICC_STREAM_STATE_OK),
    OP_C_EXPECT_READ_CODE(1, -1, 0),
    OP_C_WRITE(1, "apple"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),
    OP_S_NEW_STREAM(2, 1),
    OP_S_WRITE(2, "banana"),
    OP_S_NEW_STREAM(3, 0),
    OP_S_WRITE(3, "cherry"),
    OP_C_EXPECT_QUEUE_LEN(2),
    OP_C_ACCEPT_STREAM_WAIT(2),
    OP_C_EXPECT_QUEUE_LEN(1),
    OP_C_READ_EXPECT(2, "banana"),
    OP_C_ACCEPT_STREAM_WAIT(3),
    OP_C_EXPECT_QUEUE_LEN(0),
    OP_C_READ_EXPECT(3, "cherry"),
    OP_END,
};

/* 5: RESET_STREAM both ways with application error codes. */
static const as_op script_5[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "apple"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),
    OP_C_STREAM_RESET(0, 42),
    OP_C_STREAM_RESET_FAIL(0, 99, E_SSL, QUICC_R_STREAM_RESET), /* once only: 42 stays */
    OP_S_EXPECT_READ_CODE(1, 1, 42),
    OP_C_EXPECT_WRITE_STATE(0, QUICC_STREAM_STATE_RESET_LOCAL),
    OP_C_EXPECT_WRITE_CODE(0, 1, 42),
    OP_C_WRITE_FAIL(0, E_SSL, QUICC_R_STREAM_RESET),
    OP_S_WRITE(1, "orange"),
    OP_C_READ_EXPECT(0, "orange"),
    OP_S_STREAM_RESET(1, 43),
    OP_C_READ_FAIL_WAIT(0, E_SSL, QUICC_R_STREAM_RESET),
    OP_C_EXPECT_READ_STATE(0, QUICC_STREAM_STATE_RESET_REMOTE),
    OP_C_EXPECT_READ_CODE(0, 1, 43),
    OP_END,
};

/* 6: freeing an accepted stream with unfinished parts sends STOP_SENDING and RESET_STREAM. */
static const as_op script_6[] = {
    OP_C_SET_INCOMING_POLICY(QUICC_INCOMING_STREAM_POLICY_ACCEPT, 0),
    OP_C_CONNECT_WAIT(),
    OP_S_NEW_STREAM(1, 0),
    OP_S_WRITE(1, "apple"),
    OP_C_ACCEPT_STREAM_WAIT(1),
    OP_C_READ_EXPECT(1, "apple"),
    OP_C_FREE_STREAM(1),
    OP_S_EXPECT_WRITE_CODE(1, 1, 0),
    OP_S_EXPECT_READ_CODE(1, 1, 0),
    OP_END,
};

/* 7: AUTO_UNI, write first: the default stream is a local unidirectional stream. */
static const as_op script_7[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_AUTO_UNI),
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "apple"),
    OP_C_EXPECT_STREAM(0, 2, WR, 1),
    OP_C_READ_FAIL(0, E_SSL, QUICC_R_STREAM_SEND_ONLY),
    OP_C_CONCLUDE(0),
    OP_S_BIND_STREAM_ID(1, 2),
    OP_S_READ_EXPECT(1, "apple"),
    OP_S_EXPECT_FIN(1),
    OP_END,
};

/* 8: AUTO_UNI, read first: the default stream is the peer's first unidirectional stream. */
static const as_op script_8[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_AUTO_UNI),
    OP_C_CONNECT_WAIT(),
    OP_S_NEW_STREAM(1, 1),
    OP_S_WRITE(1, "apple"),
    OP_C_READ_EXPECT(0, "apple"),
    OP_C_EXPECT_STREAM(0, 3, RD, 0),
    OP_C_WRITE_FAIL(0, E_SSL, QUICC_R_STREAM_RECV_ONLY),
    OP_S_CONCLUDE(1),
    OP_C_EXPECT_FIN(0),
    OP_END,
};

/* 9: AUTO_UNI: a second peer stream is rejected (AUTO policy) once the default exists. */
static const as_op script_9[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_AUTO_UNI),
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "apple"),
    OP_S_BIND_STREAM_ID(1, 2),
    OP_S_READ_EXPECT(1, "apple"),
    OP_S_NEW_STREAM(2, 1),
    OP_S_WRITE(2, "orange"),
    OP_S_EXPECT_WRITE_CODE(2, 1, 0),
    OP_C_ACCEPT_STREAM_NONE(),
    OP_END,
};

/* 10: application close from the client, then close info on both sides. */
static const as_op script_10[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "apple"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),
    OP_C_SHUTDOWN(0, 77, "goodbye"),
    OP_C_EXPECT_CONN_CLOSE_INFO(77, LOCAL, "goodbye"),
    OP_S_EXPECT_CONN_CLOSE_INFO(77, 0, "goodbye"),
    OP_C_WRITE_FAIL(0, E_SSL, QUICC_R_PROTOCOL_IS_SHUTDOWN),
    OP_C_READ_FAIL(0, E_SSL, QUICC_R_PROTOCOL_IS_SHUTDOWN),
    OP_C_NEW_STREAM_FAIL(0, E_SSL, QUICC_R_PROTOCOL_IS_SHUTDOWN),
    OP_C_EXPECT_READ_STATE(0, QUICC_STREAM_STATE_CONN_CLOSED),
    OP_END,
};

/* 10s: the server closes (rapid) with a code: the client's calls fail and say why. */
static const as_op script_10s[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "apple"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),
    OP_S_SHUTDOWN(QUICC_SHUTDOWN_FLAG_RAPID, 88, "server leaving"),
    OP_C_READ_FAIL_WAIT(0, E_SSL, QUICC_R_PROTOCOL_IS_SHUTDOWN),
    OP_C_EXPECT_CONN_CLOSE_INFO(88, 0, "server leaving"),
    OP_S_EXPECT_CONN_CLOSE_INFO(88, LOCAL, "server leaving"),
    OP_C_EXPECT_WRITE_STATE(0, QUICC_STREAM_STATE_CONN_CLOSED),
    OP_C_SHUTDOWN(0, 0, NULL), /* already closed: done at once */
    OP_END,
};

/* 11: threads open streams at once; the server sees each stream's data once. */
static const as_op thread_open[] = {
    OP_C_NEW_STREAM(1, 0),
    OP_C_WRITE(1, "from a thread"),
    OP_C_CONCLUDE(1),
    OP_C_FREE_STREAM(1),
    OP_END,
};

/* The server accepts n streams, each carrying want and FIN; it concludes its side or not,
 * and frees the stream. */
static bool s_accept_read_free(as_ctx *g, int n, const char *want, bool conclude) {
    for (int i = 0; i < n; i++) {
        as_op ops[] = {OP_S_ACCEPT_STREAM_WAIT(15), OP_S_READ_EXPECT(15, want), OP_S_EXPECT_FIN(15),
                       OP_S_CONCLUDE(15), OP_S_FREE_STREAM(15)};
        for (size_t k = 0; k < QC_ARRAY_LEN(ops); k++) {
            if (k == 3 && !conclude) continue;
            if (!as_run_op(g, &ops[k])) return false;
        }
    }
    return true;
}

static bool s_accept_8(as_ctx *g) {
    return s_accept_read_free(g, 8, "from a thread", false);
}

static const as_op script_11[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_CONNECT_WAIT(),
    OP_NEW_THREADS(8, thread_open),
    OP_CHECK(s_accept_8),
    OP_JOIN_THREADS(),
    OP_END,
};

/* 12: threads accept streams at once: each of 16 server streams is accepted exactly once. */
static bool s_open_16(as_ctx *g) {
    for (int i = 0; i < 16; i++) {
        quicc *st = quicc_new_stream(g->s, 0);
        size_t w;
        if (!st) return as_fail(g, "server new_stream");
        while (quicc_write_ex2(st, "to a thread", 11, QUICC_WRITE_FLAG_CONCLUDE, &w) != 1)
            usleep(500);
        quicc_free(st); /* concluded: freeing keeps the data going */
    }
    return true;
}

static const as_op thread_accept[] = {
    OP_BEGIN_REPEAT(4),
    OP_C_ACCEPT_STREAM_WAIT(1),
    OP_C_READ_EXPECT(1, "to a thread"),
    OP_C_EXPECT_FIN(1),
    OP_C_FREE_STREAM(1),
    OP_END_REPEAT(),
    OP_END,
};

static const as_op script_12[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_CONNECT_WAIT(),
    OP_CHECK(s_open_16),
    OP_NEW_THREADS(4, thread_accept),
    OP_JOIN_THREADS(),
    OP_C_ACCEPT_STREAM_NONE(),
    OP_END,
};

/* 13: threads open more streams than the peer's limit (100): opening waits for credit
 * (blocking) or is retried (nonblocking) while the server finishes streams. */
static const as_op thread_open_many[] = {
    OP_BEGIN_REPEAT(40),
    OP_C_NEW_STREAM(1, 0),
    OP_C_WRITE(1, "from a thread"),
    OP_C_CONCLUDE(1),
    OP_C_EXPECT_FIN(1),
    OP_C_FREE_STREAM(1),
    OP_END_REPEAT(),
    OP_END,
};

static bool s_accept_160(as_ctx *g) {
    return s_accept_read_free(g, 160, "from a thread", true);
}

static const as_op script_13[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_CONNECT_WAIT(),
    OP_NEW_THREADS(4, thread_open_many),
    OP_CHECK(s_accept_160),
    OP_JOIN_THREADS(),
    OP_END,
};

/* 14: threads use one stream each for a longer exchange at the same time. */
static const as_op thread_echo[] = {
    OP_C_NEW_STREAM(1, 0),
    OP_BEGIN_REPEAT(20),
    OP_C_WRITE(1, "ping-pong payload"),
    OP_END_REPEAT(),
    OP_C_CONCLUDE(1),
    OP_BEGIN_REPEAT(20),
    OP_C_READ_EXPECT(1, "ping-pong payload"),
    OP_END_REPEAT(),
    OP_C_EXPECT_FIN(1),
    OP_END,
};

static bool s_echo_4(as_ctx *g) {
    quicc *st[4];
    for (int i = 0; i < 4; i++) {
        as_op a = OP_S_ACCEPT_STREAM_WAIT(15);
        if (!as_run_op(g, &a)) return false;
        st[i] = g->ss[15];
        g->ss[15] = NULL;
    }
    for (int i = 0; i < 4; i++) {
        g->ss[15] = st[i];
        as_op ops[] = {OP_S_READ_EXPECT(15, "ping-pong payload")};
        as_op fin = OP_S_EXPECT_FIN(15), w = OP_S_WRITE(15, "ping-pong payload"),
              c = OP_S_CONCLUDE(15), f = OP_S_FREE_STREAM(15);
        for (int k = 0; k < 20; k++)
            if (!as_run_op(g, &ops[0]) || !as_run_op(g, &w)) return false;
        if (!as_run_op(g, &fin) || !as_run_op(g, &c) || !as_run_op(g, &f)) return false;
    }
    return true;
}

static const as_op script_14[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_CONNECT_WAIT(),
    OP_NEW_THREADS(4, thread_echo),
    OP_CHECK(s_echo_4),
    OP_JOIN_THREADS(),
    OP_END,
};

/* 15/16: 200 streams opened with ADVANCE beyond the peer's limit of 100: their data waits
 * for MAX_STREAMS, which the server grants as it finishes streams. */
static bool c_open_200_advance(as_ctx *g, bool uni) {
    quicc **st = calloc(200, sizeof(*st));
    bool ok = true;
    for (int i = 0; i < 200 && ok; i++) {
        st[i] =
            quicc_new_stream(g->c, QUICC_STREAM_FLAG_ADVANCE | (uni ? QUICC_STREAM_FLAG_UNI : 0));
        if (!st[i]) {
            ok = as_fail(g, "new_stream %d with ADVANCE", i);
            break;
        }
        uint64_t want = (uint64_t)i * 4 + (uni ? 2 : 0);
        if (quicc_get_stream_id(st[i]) != want)
            ok = as_fail(g, "stream id %llu, expected %llu",
                         (unsigned long long)quicc_get_stream_id(st[i]), (unsigned long long)want);
        if (g->mode != AS_BLOCKING) quicc_set_blocking_mode(st[i], 0);
        as_op w = OP_C_WRITE_EX2(1, "advance", QUICC_WRITE_FLAG_CONCLUDE);
        g->cs[1] = st[i];
        ok = ok && as_run_op(g, &w);
        g->cs[1] = NULL;
    }
    uint64_t avail = 1;
    quicc_get_value_uint(g->c, QUICC_VALUE_CLASS_GENERIC,
                         uni ? QUICC_VALUE_QUIC_STREAM_UNI_LOCAL_AVAIL
                             : QUICC_VALUE_QUIC_STREAM_BIDI_LOCAL_AVAIL,
                         &avail);
    if (ok && avail != 0)
        ok = as_fail(g, "stream credit %llu before the server reads", (unsigned long long)avail);
    for (int i = 0; i < 200 && ok; i++) {
        as_op ops[] = {OP_S_ACCEPT_STREAM_WAIT(15), OP_S_READ_EXPECT(15, "advance"),
                       OP_S_EXPECT_FIN(15), OP_S_FREE_STREAM(15)};
        for (size_t k = 0; k < 4 && ok; k++)
            ok = as_run_op(g, &ops[k]);
    }
    for (int i = 0; i < 200; i++)
        quicc_free(st[i]);
    free(st);
    return ok;
}

static bool c_open_200_bidi(as_ctx *g) {
    return c_open_200_advance(g, false);
}

static bool c_open_200_uni(as_ctx *g) {
    return c_open_200_advance(g, true);
}

static const as_op script_15[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_CONNECT_WAIT(),
    OP_CHECK(c_open_200_bidi),
    OP_END,
};

static const as_op script_16[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_CONNECT_WAIT(),
    OP_CHECK(c_open_200_uni),
    OP_END,
};

/* 17: the client updates keys ten times during an exchange. */
static const as_op script_17[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "x"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "x"),
    OP_BEGIN_REPEAT(10),
    OP_C_KEY_UPDATE(),
    OP_C_WRITE(0, "apple"),
    OP_S_READ_EXPECT(1, "apple"),
    OP_S_WRITE(1, "orange"),
    OP_C_READ_EXPECT(0, "orange"),
    OP_END_REPEAT(),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_KEY_UPDATES, 10),
    OP_END,
};

/* 18: the server updates keys ten times; the client follows. */
static const as_op script_18[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "x"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "x"),
    OP_BEGIN_REPEAT(10),
    OP_S_KEY_UPDATE(),
    OP_S_WRITE(1, "orange"),
    OP_C_READ_EXPECT(0, "orange"),
    OP_C_WRITE(0, "apple"),
    OP_S_READ_EXPECT(1, "apple"),
    OP_END_REPEAT(),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_KEY_UPDATES, 10),
    OP_END,
};

/* 19: both sides take turns updating keys. */
static const as_op script_19[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "x"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "x"),
    OP_BEGIN_REPEAT(5),
    OP_C_KEY_UPDATE(),
    OP_C_WRITE(0, "apple"),
    OP_S_READ_EXPECT(1, "apple"),
    OP_S_WRITE(1, "orange"),
    OP_C_READ_EXPECT(0, "orange"),
    OP_S_KEY_UPDATE(),
    OP_S_WRITE(1, "kiwi"),
    OP_C_READ_EXPECT(0, "kiwi"),
    OP_C_WRITE(0, "lime"),
    OP_S_READ_EXPECT(1, "lime"),
    OP_END_REPEAT(),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_KEY_UPDATES, 10),
    OP_END,
};

/* 20: the socket fails under the connection while threads use streams: SYSCALL with a
 * network error, on every object. */
static const as_op thread_net_fail[] = {
    OP_C_NEW_STREAM(1, 0),
    OP_C_WRITE(1, "before"),
    OP_C_READ_FAIL_WAIT(1, E_SYSCALL, QUICC_R_NETWORK_ERROR),
    OP_C_WRITE_FAIL(1, E_SYSCALL, QUICC_R_NETWORK_ERROR),
    OP_END,
};

static const as_op script_20[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_CONNECT_WAIT(),
    OP_C_NEW_STREAM(1, 0),
    OP_C_WRITE(1, "apple"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),
    OP_NEW_THREADS(2, thread_net_fail),
    OP_SLEEP(100),
    OP_C_CLOSE_SOCKET(),
    OP_C_READ_FAIL_WAIT(1, E_SYSCALL, QUICC_R_NETWORK_ERROR),
    OP_JOIN_THREADS(),
    OP_C_NEW_STREAM_FAIL(0, E_SYSCALL, QUICC_R_NETWORK_ERROR),
    OP_END,
};

/* 40: shutdown flushes what was written first (100 x 1 KiB). */
#define KIB_LINE "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"
#define KIB                                                                                        \
    KIB_LINE KIB_LINE KIB_LINE KIB_LINE KIB_LINE KIB_LINE KIB_LINE KIB_LINE KIB_LINE KIB_LINE      \
        KIB_LINE KIB_LINE KIB_LINE KIB_LINE KIB_LINE KIB_LINE
static const as_op script_40[] = {
    OP_C_CONNECT_WAIT(),
    OP_BEGIN_REPEAT(100),
    OP_C_WRITE(0, KIB),
    OP_END_REPEAT(),
    OP_C_CONCLUDE(0),
    OP_C_SHUTDOWN(0, 0, NULL),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_BEGIN_REPEAT(100),
    OP_S_READ_EXPECT(1, KIB),
    OP_END_REPEAT(),
    OP_S_EXPECT_FIN(1),
    OP_S_EXPECT_CONN_CLOSE_INFO(0, 0, ""),
    OP_END,
};

/* 60: a close reason longer than a packet arrives truncated, as a prefix. */
static char long_reason[3000];
static bool long_close(as_ctx *g) {
    memset(long_reason, 'r', sizeof(long_reason) - 1);
    memcpy(long_reason, "start of a long reason", 22);
    quicc_shutdown_ex_args args = {.quic_error_code = 5, .quic_reason = long_reason};
    uint64_t end = as_now_ms() + 10000;
    int r;
    while ((r = quicc_shutdown_ex(g->c, 0, &args)) != 1) {
        if (r < 0 || as_now_ms() > end) return as_fail(g, "shutdown %d", r);
        as_client_idle(g);
    }
    quicc_conn_close_info ci;
    while (!quicc_get_conn_close_info(g->s, &ci)) {
        if (as_now_ms() > end) return as_fail(g, "server: no close info");
        usleep(1000);
    }
    if (ci.error_code != 5 || ci.flags != 0 || ci.reason_len < 22 || ci.reason_len >= 1200 ||
        memcmp(ci.reason, long_reason, ci.reason_len) != 0)
        return as_fail(g, "server close info: code %llu flags %u reason length %zu",
                       (unsigned long long)ci.error_code, ci.flags, ci.reason_len);
    return true;
}

static const as_op script_60[] = {
    OP_C_CONNECT_WAIT(),
    OP_CHECK(long_close),
    OP_END,
};

/* 72/73: stream-count exhaustion: NO_BLOCK fails with STREAM_COUNT_LIMITED; once the
 * server finishes streams, credit comes back. */
static bool exhaust(as_ctx *g, bool uni) {
    uint32_t id =
        uni ? QUICC_VALUE_QUIC_STREAM_UNI_LOCAL_AVAIL : QUICC_VALUE_QUIC_STREAM_BIDI_LOCAL_AVAIL;
    uint64_t avail = 0;
    if (!quicc_get_value_uint(g->c, QUICC_VALUE_CLASS_GENERIC, id, &avail) || avail != 100)
        return as_fail(g, "initial credit %llu", (unsigned long long)avail);
    quicc *st[100];
    uint64_t fl = QUICC_STREAM_FLAG_NO_BLOCK | (uni ? QUICC_STREAM_FLAG_UNI : 0);
    for (int i = 0; i < 100; i++)
        if (!(st[i] = quicc_new_stream(g->c, fl))) return as_fail(g, "new_stream %d", i);
    quicc_get_value_uint(g->c, QUICC_VALUE_CLASS_GENERIC, id, &avail);
    if (avail != 0) return as_fail(g, "credit %llu after 100 streams", (unsigned long long)avail);
    quicc_err_clear();
    if (quicc_new_stream(g->c, fl)) return as_fail(g, "101st stream opened");
    if (quicc_get_error(g->c, 0) != QUICC_ERROR_SSL) return as_fail(g, "error kind");
    if (!as_expect_reason(g, QUICC_R_STREAM_COUNT_LIMITED)) return false;
    /* Finish ten streams: the server grants ten more. */
    for (int i = 0; i < 10; i++) {
        size_t w;
        if (quicc_get_blocking_mode(st[i]) != (g->mode == AS_BLOCKING))
            quicc_set_blocking_mode(st[i], g->mode == AS_BLOCKING);
        g->cs[1] = st[i];
        as_op wr = OP_C_WRITE_EX2(1, "done", QUICC_WRITE_FLAG_CONCLUDE);
        if (!as_run_op(g, &wr)) return false;
        (void)w;
        g->cs[1] = NULL;
    }
    for (int i = 0; i < 10; i++) {
        as_op ops[] = {OP_S_ACCEPT_STREAM_WAIT(15), OP_S_READ_EXPECT(15, "done"),
                       OP_S_EXPECT_FIN(15), OP_S_CONCLUDE(15), OP_S_FREE_STREAM(15)};
        for (size_t k = 0; k < 5; k++) {
            if (uni && k == 3) continue;
            if (!as_run_op(g, &ops[k])) return false;
        }
    }
    for (int i = 0; i < 10; i++) {
        if (!uni) {
            g->cs[1] = st[i];
            as_op fin = OP_C_EXPECT_FIN(1);
            if (!as_run_op(g, &fin)) return false;
            g->cs[1] = NULL;
        }
        quicc_free(st[i]);
        st[i] = NULL;
    }
    uint64_t end = as_now_ms() + 10000;
    while (quicc_get_value_uint(g->c, QUICC_VALUE_CLASS_GENERIC, id, &avail) && avail < 10) {
        if (as_now_ms() > end)
            return as_fail(g, "credit %llu after finishing ten streams", (unsigned long long)avail);
        as_client_idle(g);
    }
    if (avail != 10) return as_fail(g, "credit %llu, expected 10", (unsigned long long)avail);
    quicc *more = quicc_new_stream(g->c, fl);
    if (!more) return as_fail(g, "stream after credit came back");
    quicc_free(more);
    for (int i = 10; i < 100; i++)
        quicc_free(st[i]);
    return true;
}

static bool exhaust_bidi(as_ctx *g) {
    return exhaust(g, false);
}

static bool exhaust_uni(as_ctx *g) {
    return exhaust(g, true);
}

static const as_op script_72[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_CONNECT_WAIT(),
    OP_CHECK(exhaust_bidi),
    OP_END,
};

static const as_op script_73[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_CONNECT_WAIT(),
    OP_CHECK(exhaust_uni),
    OP_END,
};

/* 74/75: Version Negotiation, injected into a client whose first Initial went to a socket
 * of ours. Listing version 1 (the one in use): ignored. Listing only unknown versions: the
 * connection attempt ends, locally, with CONNECTION_REFUSED. */
static bool vn_case(as_ctx *g, bool lists_v1) {
    int fake = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    socklen_t sl = sizeof(sin);
    if (fake < 0 || bind(fake, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        getsockname(fake, (struct sockaddr *)&sin, &sl) != 0)
        return as_fail(g, "fake server socket");
    quicc *c = quicc_new(g->cctx);
    quicc_set1_initial_peer_addr(c, (struct sockaddr *)&sin, sizeof(sin));
    quicc_set_alpn_protos(c, (const unsigned char *)"\x0aquicc-test", 11);
    quicc_set_blocking_mode(c, 0);
    bool ok = true;
    if (quicc_connect(c) != -1 || quicc_get_error(c, -1) != QUICC_ERROR_WANT_READ)
        ok = as_fail(g, "nonblocking connect did not wait");
    uint8_t in[1500];
    struct sockaddr_storage from;
    socklen_t fl = sizeof(from);
    struct pollfd p = {.fd = fake, .events = POLLIN};
    ssize_t n = ok && poll(&p, 1, 5000) == 1
                    ? recvfrom(fake, in, sizeof(in), 0, (struct sockaddr *)&from, &fl)
                    : -1;
    if (ok && (n < 7 || !(in[0] & 0x80))) ok = as_fail(g, "no Initial from the client");
    if (ok) {
        /* The client's DCID and SCID: the VN swaps them. */
        uint8_t dl = in[5], *dcid = in + 6, l2 = in[6 + dl], *scid = in + 7 + dl;
        uint8_t vn[64];
        size_t k = 0;
        vn[k++] = 0xc0;
        memset(vn + k, 0, 4);
        k += 4;
        vn[k++] = l2;
        memcpy(vn + k, scid, l2);
        k += l2;
        vn[k++] = dl;
        memcpy(vn + k, dcid, dl);
        k += dl;
        static const uint8_t versions[] = {0x1a, 0x2a, 0x3a, 0x4a, 0, 0, 0, 1};
        memcpy(vn + k, versions, lists_v1 ? 8 : 4);
        k += lists_v1 ? 8 : 4;
        if (!quicc_inject_net_dgram(c, vn, k, (struct sockaddr *)&sin, sizeof(sin)))
            ok = as_fail(g, "inject");
    }
    if (ok && lists_v1) {
        /* Ignored: the client keeps trying (and retransmits its Initial). */
        int r = quicc_connect(c);
        if (r != -1 || quicc_get_error(c, r) != QUICC_ERROR_WANT_READ)
            ok = as_fail(g, "VN listing v1 was not ignored");
        quicc_conn_close_info ci;
        if (ok && quicc_get_conn_close_info(c, &ci)) ok = as_fail(g, "closed after ignored VN");
    } else if (ok) {
        quicc_err_clear();
        int r = quicc_connect(c);
        if (r == 1 || quicc_get_error(c, r) != QUICC_ERROR_SSL)
            ok = as_fail(g, "connect after VN: %d/%d", r, quicc_get_error(c, r));
        else
            ok = as_expect_reason(g, QUICC_R_HANDSHAKE_FAILED);
        quicc_conn_close_info ci;
        if (ok && (!quicc_get_conn_close_info(c, &ci) || ci.error_code != 0x2 ||
                   ci.flags != (LOCAL | TRANSPORT)))
            ok = as_fail(g, "close info after VN");
    }
    quicc_free(c);
    close(fake);
    quicc_err_clear();
    return ok;
}

static bool vn_v1(as_ctx *g) {
    return vn_case(g, true);
}

static bool vn_unknown(as_ctx *g) {
    return vn_case(g, false);
}

static const as_op script_74[] = {
    OP_CHECK(vn_v1),        OP_C_CONNECT_WAIT(), /* the scenario's own connection still works */
    OP_C_WRITE(0, "apple"), OP_S_BIND_STREAM_ID(1, 0), OP_S_READ_EXPECT(1, "apple"), OP_END,
};

static const as_op script_75[] = {
    OP_CHECK(vn_unknown),
    OP_END,
};

/* 76: WAIT_PEER: shutdown waits until the peer closes. */
static bool wait_peer_pending(as_ctx *g) {
    int r =
        quicc_shutdown_ex(g->c, QUICC_SHUTDOWN_FLAG_WAIT_PEER | QUICC_SHUTDOWN_FLAG_NO_BLOCK, NULL);
    if (r != 0) return as_fail(g, "WAIT_PEER shutdown returned %d before the peer closed", r);
    return true;
}

static const as_op script_76[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "apple"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),
    OP_CHECK(wait_peer_pending),
    OP_S_SHUTDOWN(0, 9, "done"),
    OP_C_SHUTDOWN(QUICC_SHUTDOWN_FLAG_WAIT_PEER, 0, NULL),
    OP_C_EXPECT_CONN_CLOSE_INFO(9, 0, "done"),
    OP_END,
};

/* 77: AUTO_BIDI, read first: the peer's first bidirectional stream becomes the default. */
static const as_op script_77[] = {
    OP_C_CONNECT_WAIT(),
    OP_S_NEW_STREAM(1, 0),
    OP_S_WRITE(1, "apple"),
    OP_C_READ_EXPECT(0, "apple"),
    OP_C_EXPECT_STREAM(0, 1, BIDI, 0),
    OP_C_WRITE(0, "orange"),
    OP_S_READ_EXPECT(1, "orange"),
    OP_END,
};

/* 78: a session ticket after the handshake (late) is taken without trouble. */
static bool tickets_2(as_ctx *g) {
    uint64_t end = as_now_ms() + 10000;
    for (;;) {
        qc_api_conn *c = g->c->c;
        pthread_mutex_lock(c->lock);
        unsigned n = qc_tls_session_count(qc_conn_hs(c->engine));
        pthread_mutex_unlock(c->lock);
        if (n >= 2) return true;
        if (as_now_ms() > end) return as_fail(g, "%u session tickets, expected 2", n);
        as_client_idle(g);
    }
}

/* The session API: size query, copy, and a second connection that resumes it. */
static bool session_resume(as_ctx *g) {
    size_t len = 0;
    quicc_err_clear();
    if (quicc_get_session(g->c, NULL, &len) || len == 0) return as_fail(g, "session size");
    unsigned char *buf = malloc(len);
    size_t small = len - 1;
    bool ok = true;
    if (quicc_get_session(g->c, buf, &small) || small != len)
        ok = as_fail(g, "short buffer accepted");
    if (ok) ok = as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT);
    size_t got = len;
    if (ok && (!quicc_get_session(g->c, buf, &got) || got != len)) ok = as_fail(g, "get_session");
    if (ok && quicc_set_session(g->c, buf, len)) ok = as_fail(g, "set_session after connecting");
    if (ok) ok = as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT);
    if (ok && quicc_session_reused(g->c)) ok = as_fail(g, "first connection reports resumption");
    quicc *c2 = quicc_new(g->cctx);
    if (ok && quicc_get_session(c2, buf, &got)) ok = as_fail(g, "session of a new connection");
    if (ok) ok = as_expect_reason(g, QUICC_R_NO_SESSION);
    quicc_set1_initial_peer_addr(c2, (struct sockaddr *)&g->saddr, g->saddr_len);
    quicc_set_alpn_protos(c2, (const unsigned char *)"\x0aquicc-test", 11);
    quicc_set1_host(c2, "localhost");
    if (ok && !quicc_set_session(c2, buf, len)) ok = as_fail(g, "set_session");
    if (ok && quicc_connect(c2) != 1) ok = as_fail(g, "resumed connection");
    if (ok && !quicc_session_reused(c2)) ok = as_fail(g, "second connection did not resume");
    quicc *s2 = NULL;
    uint64_t end = as_now_ms() + 5000;
    while (ok && !(s2 = quicc_accept_connection(g->listener, QUICC_ACCEPT_CONNECTION_NO_BLOCK)) &&
           as_now_ms() < end)
        usleep(1000);
    quicc_free(c2);
    quicc_free(s2);
    free(buf);
    return ok;
}

static const as_op script_78[] = {
    OP_C_CONNECT_WAIT(),           OP_C_WRITE(0, "apple"),      OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),  OP_S_NEW_TICKET(),           OP_S_WRITE(1, "orange"),
    OP_C_READ_EXPECT(0, "orange"), OP_CHECK(tickets_2),         OP_CHECK(session_resume),
    OP_C_WRITE(0, "pear"),         OP_S_READ_EXPECT(1, "pear"), OP_END,
};

/* 79: data and FIN in one call (write_ex2 with CONCLUDE); a FIN-only write. */
static const as_op script_79[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_CONNECT_WAIT(),
    OP_C_NEW_STREAM(1, 0),
    OP_C_WRITE_EX2(1, "apple", QUICC_WRITE_FLAG_CONCLUDE),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),
    OP_S_EXPECT_FIN(1),
    OP_C_EXPECT_WRITE_STATE(1, QUICC_STREAM_STATE_FINISHED),
    OP_C_WRITE_FAIL(1, E_SSL, QUICC_R_STREAM_FINISHED),
    OP_C_NEW_STREAM(2, QUICC_STREAM_FLAG_UNI),
    OP_C_WRITE(2, "orange"),
    OP_C_WRITE_EX2(2, "", QUICC_WRITE_FLAG_CONCLUDE),
    OP_S_BIND_STREAM_ID(2, 2),
    OP_S_READ_EXPECT(2, "orange"),
    OP_S_EXPECT_FIN(2),
    OP_END,
};

/* 80: a stateless reset from the server's address ends the connection (draining). */
static bool stateless_reset(as_ctx *g) {
    uint8_t dg[64];
    qc_api_conn *c = g->c->c;
    pthread_mutex_lock(c->lock);
    const qc_cid_entry *e = &c->engine->cids.peer[c->engine->cids.peer_cur];
    bool has = e->has_token;
    memcpy(dg + sizeof(dg) - 16, e->token, 16);
    pthread_mutex_unlock(c->lock);
    if (!has) return as_fail(g, "no stateless reset token from the server");
    for (size_t i = 0; i < sizeof(dg) - 16; i++)
        dg[i] = (uint8_t)(0x5a + i * 7);
    dg[0] = 0x40 | (dg[0] & 0x3f); /* looks like a short-header packet */
    if (!quicc_inject_net_dgram(g->c, dg, sizeof(dg), (struct sockaddr *)&g->saddr, g->saddr_len))
        return as_fail(g, "inject");
    return true;
}

static const as_op script_80[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "apple"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),
    OP_CHECK(stateless_reset),
    OP_C_READ_FAIL_WAIT(0, E_SSL, QUICC_R_PROTOCOL_IS_SHUTDOWN),
    OP_C_EXPECT_CONN_CLOSE_INFO(0, TRANSPORT, "stateless reset"),
    OP_C_EXPECT_WRITE_STATE(0, QUICC_STREAM_STATE_CONN_CLOSED),
    OP_END,
};

/* 81-83: idle timeout: set (negotiated to the smaller), default, immutable once connected. */
static const as_op script_81[] = {
    OP_SET_IDLE_TIMEOUT(25000),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_FEATURE_REQUEST, QUICC_VALUE_QUIC_IDLE_TIMEOUT, 25000),
    OP_C_CONNECT_WAIT(),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_FEATURE_NEGOTIATED, QUICC_VALUE_QUIC_IDLE_TIMEOUT,
                      25000),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_FEATURE_PEER_REQUEST, QUICC_VALUE_QUIC_IDLE_TIMEOUT,
                      30000),
    OP_END,
};

static const as_op script_82[] = {
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_FEATURE_REQUEST, QUICC_VALUE_QUIC_IDLE_TIMEOUT, 30000),
    OP_C_CONNECT_WAIT(),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_FEATURE_NEGOTIATED, QUICC_VALUE_QUIC_IDLE_TIMEOUT,
                      30000),
    OP_END,
};

static const as_op script_83[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_SET_VALUE_FAIL(0, QUICC_VALUE_CLASS_FEATURE_REQUEST, QUICC_VALUE_QUIC_IDLE_TIMEOUT, 5000),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_FEATURE_NEGOTIATED, QUICC_VALUE_QUIC_IDLE_TIMEOUT,
                      30000),
    OP_END,
};

/* 84: stream credit of each kind, and write-buffer statistics. */
static bool write_buf_stats(as_ctx *g) {
    quicc *s = g->cs[1];
    uint64_t size = 0, used = 1, avail = 0;
    if (!quicc_get_value_uint(s, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_STREAM_WRITE_BUF_SIZE,
                              &size) ||
        !quicc_get_value_uint(s, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_STREAM_WRITE_BUF_USED,
                              &used) ||
        !quicc_get_value_uint(s, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_STREAM_WRITE_BUF_AVAIL,
                              &avail))
        return as_fail(g, "write buffer values");
    if (size == 0 || used != 0 || avail != size)
        return as_fail(g, "fresh stream: size %llu used %llu avail %llu", (unsigned long long)size,
                       (unsigned long long)used, (unsigned long long)avail);
    /* A receive-only stream has no write buffer. */
    quicc_err_clear();
    if (quicc_get_value_uint(g->cs[2], QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_STREAM_WRITE_BUF_SIZE,
                             &size))
        return as_fail(g, "write buffer of a receive-only stream");
    return as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT);
}

static const as_op script_84[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_SET_INCOMING_POLICY(QUICC_INCOMING_STREAM_POLICY_ACCEPT, 0),
    OP_C_CONNECT_WAIT(),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_STREAM_BIDI_LOCAL_AVAIL, 100),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_STREAM_UNI_LOCAL_AVAIL, 100),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_STREAM_BIDI_REMOTE_AVAIL, 100),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_STREAM_UNI_REMOTE_AVAIL, 100),
    OP_C_NEW_STREAM(1, 0),
    OP_C_NEW_STREAM(3, QUICC_STREAM_FLAG_UNI),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_STREAM_BIDI_LOCAL_AVAIL, 99),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_STREAM_UNI_LOCAL_AVAIL, 99),
    OP_S_NEW_STREAM(1, 1),
    OP_S_WRITE(1, "uni"),
    OP_C_ACCEPT_STREAM_WAIT(2),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_STREAM_UNI_REMOTE_AVAIL, 99),
    OP_C_EXPECT_VALUE(0, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_STREAM_BIDI_REMOTE_AVAIL, 100),
    OP_CHECK(write_buf_stats),
    OP_END,
};

/* 85: poll: connection, stream and listener events, several connections at once. */
static bool poll_expect(as_ctx *g, quicc *obj, uint64_t events, uint64_t want, int ms) {
    quicc_poll_item it = {.desc = obj, .events = events};
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    uint64_t end = as_now_ms() + 10000;
    for (;;) {
        size_t n = 99;
        if (!quicc_poll(&it, 1, sizeof(it), &tv, 0, &n)) return as_fail(g, "quicc_poll failed");
        if (n != (it.revents ? 1u : 0u)) return as_fail(g, "poll count %zu", n);
        if (it.revents == want) return true;
        if (ms == 0 || as_now_ms() > end)
            return as_fail(g, "poll events 0x%llx, expected 0x%llx", (unsigned long long)it.revents,
                           (unsigned long long)want);
        /* Blocking polls return early only with something to report; the thread-assisted
         * mode needs its thread to have done the work. */
        if (g->mode != AS_THREAD_ASSISTED && it.revents && (it.revents & want) != want) continue;
    }
}

static bool poll_85(as_ctx *g) {
    uint64_t all_conn =
        QUICC_POLL_EVENT_I | QUICC_POLL_EVENT_OS | QUICC_POLL_EVENT_E | QUICC_POLL_EVENT_RW;
    /* Bad arguments. */
    quicc_poll_item it = {.desc = g->c, .events = all_conn};
    size_t n;
    struct timeval zero = {0, 0};
    quicc_err_clear();
    if (quicc_poll(&it, 1, sizeof(it) - 1, &zero, 0, &n)) return as_fail(g, "short stride");
    if (!as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT)) return false;
    if (quicc_poll(&it, 1, sizeof(it), &zero, 0, NULL)) return as_fail(g, "no count");
    if (!as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT)) return false;
    /* Nothing incoming yet: the connection may open streams of both kinds. */
    if (!poll_expect(g, g->c, all_conn, QUICC_POLL_EVENT_OS, 0)) return false;
    /* A nonblocking poll with nothing of interest: count 0. */
    if (!poll_expect(g, g->c, QUICC_POLL_EVENT_IS, 0, 0)) return false;
    /* Incoming bidi stream from the server. */
    quicc *ss = quicc_new_stream(g->s, 0);
    size_t w;
    if (!ss || quicc_write_ex(ss, "apple", 5, &w) != 1) return as_fail(g, "server stream");
    if (!poll_expect(g, g->c, QUICC_POLL_EVENT_IS, QUICC_POLL_EVENT_ISB, 2000)) return false;
    quicc *cs = quicc_accept_stream(g->c, QUICC_ACCEPT_STREAM_NO_BLOCK);
    if (!cs) return as_fail(g, "accept");
    g->cs[1] = cs;
    if (g->mode != AS_BLOCKING) quicc_set_blocking_mode(cs, 0);
    if (!poll_expect(g, cs, QUICC_POLL_EVENT_RWE, QUICC_POLL_EVENT_RW, 2000)) return false;
    as_op rd = OP_C_READ_EXPECT(1, "apple");
    if (!as_run_op(g, &rd)) return false;
    if (!poll_expect(g, cs, QUICC_POLL_EVENT_RWE, QUICC_POLL_EVENT_W, 0)) return false;
    /* The server resets its side and stops ours. */
    quicc_stream_reset(ss, 7);
    quicc_free(ss); /* sends STOP_SENDING for the unfinished receive part */
    if (!poll_expect(g, cs, QUICC_POLL_EVENT_RWE, QUICC_POLL_EVENT_ER | QUICC_POLL_EVENT_EW, 2000))
        return false;
    /* Incoming uni stream; and the listener sees a second client, polled together with
     * that client's connection (two ports in one poll). */
    quicc *su = quicc_new_stream(g->s, QUICC_STREAM_FLAG_UNI);
    if (!su || quicc_write_ex(su, "kiwi", 4, &w) != 1) return as_fail(g, "server uni stream");
    if (!poll_expect(g, g->c, QUICC_POLL_EVENT_IS, QUICC_POLL_EVENT_ISU, 2000)) return false;
    quicc_free(su);
    quicc *c2 = quicc_new(g->cctx);
    quicc_set1_initial_peer_addr(c2, (struct sockaddr *)&g->saddr, g->saddr_len);
    quicc_set_alpn_protos(c2, (const unsigned char *)"\x0aquicc-test", 11);
    quicc_set1_host(c2, "localhost");
    quicc_set_blocking_mode(c2, 0);
    quicc_connect(c2);
    quicc_poll_item two[2] = {{.desc = g->listener, .events = QUICC_POLL_EVENT_IC},
                              {.desc = c2, .events = QUICC_POLL_EVENT_OSB}};
    uint64_t end = as_now_ms() + 10000;
    bool ok = true;
    while (ok && !(two[0].revents && two[1].revents)) {
        struct timeval tv = {0, 200000};
        if (!quicc_poll(two, 2, sizeof(two[0]), &tv, 0, &n)) ok = as_fail(g, "poll of two");
        if (quicc_connect(c2) == 0) ok = as_fail(g, "second client failed");
        if (as_now_ms() > end) ok = as_fail(g, "listener IC / second client OSB not seen");
    }
    quicc *s2 = ok ? quicc_accept_connection(g->listener, QUICC_ACCEPT_CONNECTION_NO_BLOCK) : NULL;
    if (ok && !s2) ok = as_fail(g, "accept after IC");
    quicc_free(s2);
    /* The server closes: terminating and terminated. */
    quicc_shutdown_ex_args a = {.quic_error_code = 1, .quic_reason = "bye"};
    quicc_shutdown_ex(g->s, QUICC_SHUTDOWN_FLAG_RAPID, &a);
    if (ok) ok = poll_expect(g, g->c, QUICC_POLL_EVENT_EC, QUICC_POLL_EVENT_EC, 2000);
    if (ok) ok = poll_expect(g, g->c, QUICC_POLL_EVENT_ECD, QUICC_POLL_EVENT_ECD, 5000);
    quicc_free(c2);
    return ok;
}

static const as_op script_85[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_SET_INCOMING_POLICY(QUICC_INCOMING_STREAM_POLICY_ACCEPT, 0),
    OP_C_CONNECT_WAIT(),
    OP_CHECK(poll_85),
    OP_END,
};

/* 86: explicit event handling: nonblocking calls do no network work until
 * quicc_handle_events; implicit: they do. */
static bool explicit_events(as_ctx *g) {
    quicc *c = g->c;
    bool was_blocking = quicc_get_blocking_mode(c);
    quicc_set_blocking_mode(c, 0);
    bool ok = quicc_set_value_uint(c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_EVENT_HANDLING_MODE,
                                   QUICC_EVENT_HANDLING_MODE_EXPLICIT);
    uint64_t v = 0;
    quicc_get_value_uint(c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_EVENT_HANDLING_MODE, &v);
    if (!ok || v != QUICC_EVENT_HANDLING_MODE_EXPLICIT) return as_fail(g, "set explicit mode");
    size_t w, r;
    quicc_write_ex(g->ss[1], "orange", 6, &w);
    char buf[16];
    if (g->mode != AS_THREAD_ASSISTED) {
        usleep(100000); /* the datagram is in our socket; no call reads it */
        for (int i = 0; i < 3; i++) {
            if (quicc_read_ex(c, buf, sizeof(buf), &r) == 1)
                return as_fail(g, "explicit mode: a read did network work");
            if (quicc_get_error(c, 0) != QUICC_ERROR_WANT_READ) return as_fail(g, "read error");
        }
    }
    uint64_t end = as_now_ms() + 5000;
    while (quicc_read_ex(c, buf, sizeof(buf), &r) != 1) {
        if (g->mode != AS_THREAD_ASSISTED) quicc_handle_events(c);
        if (as_now_ms() > end) return as_fail(g, "no data after handle_events");
        usleep(1000);
    }
    if (r != 6 || memcmp(buf, "orange", 6)) return as_fail(g, "data");
    /* Implicit again: a read alone gets the data. */
    quicc_set_value_uint(c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_EVENT_HANDLING_MODE,
                         QUICC_EVENT_HANDLING_MODE_IMPLICIT);
    quicc_write_ex(g->ss[1], "melon", 5, &w);
    end = as_now_ms() + 5000;
    while (quicc_read_ex(c, buf, sizeof(buf), &r) != 1) {
        if (as_now_ms() > end) return as_fail(g, "implicit mode: no data");
        usleep(1000);
    }
    if (r != 5 || memcmp(buf, "melon", 5)) return as_fail(g, "data");
    if (g->mode == AS_THREAD_ASSISTED)
        quicc_set_value_uint(c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_EVENT_HANDLING_MODE,
                             QUICC_EVENT_HANDLING_MODE_EXPLICIT);
    quicc_set_blocking_mode(c, was_blocking);
    return true;
}

static const as_op script_86[] = {
    OP_C_CONNECT_WAIT(),          OP_C_WRITE(0, "apple"),    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"), OP_CHECK(explicit_events), OP_END,
};

/* Nonblocking write retries: the same data is required, unless the buffer may move. */
static bool write_retry(as_ctx *g) {
    quicc *c = g->c;
    quicc_set_blocking_mode(c, 0);
    /* Fill the stream until WANT_WRITE (the server does not read). */
    size_t len = 1 << 20, w = 0;
    char *a = malloc(len), *b = malloc(len);
    for (size_t i = 0; i < len; i++)
        a[i] = (char)(i * 31 + 7);
    memcpy(b, a, len);
    bool ok = true;
    int r, rounds = 0;
    while ((r = quicc_write_ex(c, a, len, &w)) == 1 && rounds++ < 64)
        ;
    if (r == 1 || quicc_get_error(c, r) != QUICC_ERROR_WANT_WRITE)
        ok = as_fail(g, "no WANT_WRITE with a full stream");
    quicc_err_clear();
    if (ok && quicc_write_ex(c, a, len - 1, &w)) ok = as_fail(g, "retry with another length");
    if (ok) ok = as_expect_reason(g, QUICC_R_BAD_WRITE_RETRY);
    /* After a bad retry, start again: WANT_WRITE, then retry from another buffer. */
    if (ok &&
        (quicc_write_ex(c, a, len, &w) == 1 || quicc_get_error(c, 0) != QUICC_ERROR_WANT_WRITE))
        ok = as_fail(g, "no WANT_WRITE");
    if (ok && quicc_write_ex(c, b, len, &w)) ok = as_fail(g, "retry from a moved buffer");
    if (ok) ok = as_expect_reason(g, QUICC_R_BAD_WRITE_RETRY);
    if (ok && (quicc_set_mode(c, QUICC_MODE_ACCEPT_MOVING_WRITE_BUFFER) !=
                   QUICC_MODE_ACCEPT_MOVING_WRITE_BUFFER ||
               quicc_get_mode(c) != QUICC_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        ok = as_fail(g, "set_mode");
    if (ok &&
        (quicc_write_ex(c, a, len, &w) == 1 || quicc_get_error(c, 0) != QUICC_ERROR_WANT_WRITE))
        ok = as_fail(g, "no WANT_WRITE");
    if (ok && quicc_write_ex(c, b, len, &w) != 0 && quicc_get_error(c, 0) != QUICC_ERROR_WANT_WRITE)
        ok = as_fail(g, "retry from a moved buffer with the mode set");
    quicc_err_clear();
    if (ok && quicc_clear_mode(c, QUICC_MODE_ACCEPT_MOVING_WRITE_BUFFER) != 0)
        ok = as_fail(g, "clear_mode");
    free(a);
    free(b);
    return ok;
}

static const as_op script_write_retry[] = {
    OP_C_CONNECT_WAIT(),
    OP_CHECK(write_retry),
    OP_END,
};

/* Error reasons of calls made in the wrong place or order. */
static bool misuse(as_ctx *g) {
    quicc_err_clear();
    if (quicc_get_error(g->c, 1) != QUICC_ERROR_NONE) return as_fail(g, "get_error of a success");
    if (quicc_accept_stream(g->cs[1], 0)) return as_fail(g, "accept_stream on a stream");
    if (!as_expect_reason(g, QUICC_R_CONN_USE_ONLY)) return false;
    if (quicc_new_stream(g->cs[1], 0)) return as_fail(g, "new_stream on a stream");
    if (!as_expect_reason(g, QUICC_R_CONN_USE_ONLY)) return false;
    if (quicc_set_default_stream_mode(g->c, 7)) return as_fail(g, "bad default stream mode");
    if (!as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT)) return false;
    if (quicc_set_incoming_stream_policy(g->c, 9, 0)) return as_fail(g, "bad policy");
    if (!as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT)) return false;
    size_t r;
    if (quicc_read_ex(g->c, NULL, 5, &r)) return as_fail(g, "read into NULL");
    if (!as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT)) return false;
    if (quicc_key_update(g->c, 5)) return as_fail(g, "bad key update type");
    if (!as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT)) return false;
    /* Connection-only calls on a stream object: CONN_USE_ONLY and OpenSSL's return values. */
    quicc *st = g->cs[1];
    if (quicc_key_update(st, QUICC_KEY_UPDATE_REQUESTED) != 0) return as_fail(g, "key update");
    if (!as_expect_reason(g, QUICC_R_CONN_USE_ONLY)) return false;
    if (quicc_get_accept_stream_queue_len(st) != 0) return as_fail(g, "queue length");
    if (!as_expect_reason(g, QUICC_R_CONN_USE_ONLY)) return false;
    if (quicc_set_default_stream_mode(st, QUICC_DEFAULT_STREAM_MODE_NONE) != 0)
        return as_fail(g, "default stream mode");
    if (!as_expect_reason(g, QUICC_R_CONN_USE_ONLY)) return false;
    if (quicc_set_incoming_stream_policy(st, QUICC_INCOMING_STREAM_POLICY_ACCEPT, 0) != 0)
        return as_fail(g, "incoming policy");
    if (!as_expect_reason(g, QUICC_R_CONN_USE_ONLY)) return false;
    quicc_conn_close_info ci;
    if (quicc_get_conn_close_info(st, &ci) != -1) return as_fail(g, "close info");
    if (!as_expect_reason(g, QUICC_R_CONN_USE_ONLY)) return false;
    if (quicc_get_conn_close_info(g->c, &ci) != 0) return as_fail(g, "close info, open conn");
    uint64_t v = 0;
    static const uint32_t conn_values[] = {
        QUICC_VALUE_QUIC_IDLE_TIMEOUT, QUICC_VALUE_QUIC_STREAM_BIDI_LOCAL_AVAIL,
        QUICC_VALUE_QUIC_STREAM_UNI_REMOTE_AVAIL, QUICC_VALUE_QUIC_KEY_UPDATES,
        QUICC_VALUE_CONN_PACKETS_SENT};
    for (size_t i = 0; i < sizeof(conn_values) / sizeof(conn_values[0]); i++) {
        if (quicc_get_value_uint(st, QUICC_VALUE_CLASS_GENERIC, conn_values[i], &v) != 0)
            return as_fail(g, "value %u of a stream", conn_values[i]);
        if (!as_expect_reason(g, QUICC_R_CONN_USE_ONLY)) return false;
    }
    if (quicc_set_value_uint(st, QUICC_VALUE_CLASS_FEATURE_REQUEST, QUICC_VALUE_QUIC_IDLE_TIMEOUT,
                             1000) != 0)
        return as_fail(g, "set idle timeout on a stream");
    if (!as_expect_reason(g, QUICC_R_CONN_USE_ONLY)) return false;
    /* The stream's own values work on it. */
    if (quicc_get_value_uint(st, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_STREAM_WRITE_BUF_SIZE,
                             &v) != 1 ||
        v == 0)
        return as_fail(g, "write buffer size of a stream");
    if (quicc_get_value_uint(st, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_EVENT_HANDLING_MODE, &v) !=
        1)
        return as_fail(g, "event handling mode of a stream");
    if (quicc_get1_peer_certificate(g->cs[1])) return as_fail(g, "certificate of a stream");
    /* The peer certificate: the server's, in DER and by name. */
    quicc_cert *cert = quicc_get1_peer_certificate(g->c);
    if (!cert) return as_fail(g, "no peer certificate");
    size_t dlen = 0;
    const unsigned char *der = quicc_cert_get0_der(cert, &dlen);
    gnutls_datum_t pem = {0}, want = {0};
    bool ok = gnutls_load_file(g->cert, &pem) == 0 &&
              gnutls_pem_base64_decode2("CERTIFICATE", &pem, &want) == 0;
    if (!ok || want.size != dlen || memcmp(want.data, der, dlen) != 0)
        ok = as_fail(g, "peer certificate DER differs from the server's");
    if (ok && (strcmp(quicc_cert_get0_subject(cert), "CN=localhost") != 0 ||
               strcmp(quicc_cert_get0_issuer(cert), "CN=localhost") != 0))
        ok = as_fail(g, "subject %s issuer %s", quicc_cert_get0_subject(cert),
                     quicc_cert_get0_issuer(cert));
    gnutls_free(pem.data);
    gnutls_free(want.data);
    quicc_cert_free(cert);
    if (quicc_get_verify_result(g->c) != QUICC_VERIFY_OK) return as_fail(g, "verify result");
    return ok;
}

/* Value identifiers, poll events and other constants have OpenSSL's numbers. */
static bool openssl_numbers(as_ctx *g) {
    static const struct {
        const char *name;
        uint64_t ours, openssl;
    } k[] = {
        {"VALUE_QUIC_STREAM_BIDI_LOCAL_AVAIL", QUICC_VALUE_QUIC_STREAM_BIDI_LOCAL_AVAIL, 1},
        {"VALUE_QUIC_STREAM_BIDI_REMOTE_AVAIL", QUICC_VALUE_QUIC_STREAM_BIDI_REMOTE_AVAIL, 2},
        {"VALUE_QUIC_STREAM_UNI_LOCAL_AVAIL", QUICC_VALUE_QUIC_STREAM_UNI_LOCAL_AVAIL, 3},
        {"VALUE_QUIC_STREAM_UNI_REMOTE_AVAIL", QUICC_VALUE_QUIC_STREAM_UNI_REMOTE_AVAIL, 4},
        {"VALUE_QUIC_IDLE_TIMEOUT", QUICC_VALUE_QUIC_IDLE_TIMEOUT, 5},
        {"VALUE_EVENT_HANDLING_MODE", QUICC_VALUE_EVENT_HANDLING_MODE, 6},
        {"VALUE_STREAM_WRITE_BUF_SIZE", QUICC_VALUE_STREAM_WRITE_BUF_SIZE, 7},
        {"VALUE_STREAM_WRITE_BUF_USED", QUICC_VALUE_STREAM_WRITE_BUF_USED, 8},
        {"VALUE_STREAM_WRITE_BUF_AVAIL", QUICC_VALUE_STREAM_WRITE_BUF_AVAIL, 9},
        {"VALUE_CLASS_FEATURE_NEGOTIATED", QUICC_VALUE_CLASS_FEATURE_NEGOTIATED, 3},
        {"EVENT_HANDLING_MODE_EXPLICIT", QUICC_EVENT_HANDLING_MODE_EXPLICIT, 2},
        {"POLL_EVENT_E", QUICC_POLL_EVENT_E, 54},
        {"POLL_EVENT_RWE", QUICC_POLL_EVENT_RWE, 240},
        {"POLL_EVENT_I", QUICC_POLL_EVENT_I, 1792},
        {"POLL_EVENT_ISE", QUICC_POLL_EVENT_ISE, 1540},
        {"POLL_EVENT_OSE", QUICC_POLL_EVENT_OSE, 6148},
        {"POLL_EVENT_ECD", QUICC_POLL_EVENT_ECD, 8},
        {"STREAM_STATE_CONN_CLOSED", QUICC_STREAM_STATE_CONN_CLOSED, 6},
        {"SHUTDOWN_FLAG_WAIT_PEER", QUICC_SHUTDOWN_FLAG_WAIT_PEER, 8},
        {"ERROR_ZERO_RETURN", QUICC_ERROR_ZERO_RETURN, 6},
        {"ERROR_SYSCALL", QUICC_ERROR_SYSCALL, 5},
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
        if (k[i].ours != k[i].openssl)
            return as_fail(g, "%s is %llu, OpenSSL's is %llu", k[i].name,
                           (unsigned long long)k[i].ours, (unsigned long long)k[i].openssl);
    return true;
}

static const as_op script_openssl_numbers[] = {
    OP_CHECK(openssl_numbers),
    OP_END,
};

static const as_op script_misuse[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_NEW_STREAM(1, 0),
    OP_CHECK(misuse),
    OP_END,
};

/* Connection setups that fail or succeed on the client's names, trust and ALPN: no ALPN,
 * untrusted certificate, wrong name, a checked name other than the SNI (both ways), several
 * names, ALPN from the context; after a failure every call says the connection is shut down. */
typedef struct {
    bool trust;           /* load the server's certificate as trusted */
    const char *sni;      /* quicc_set_tlsext_host_name, or NULL */
    const char *hosts[2]; /* quicc_set1_host then quicc_add1_host, or NULL */
    int alpn;             /* 0 none, 1 on the connection, 2 on the context only */
    unsigned long reason; /* expected failure reason, or 0 for success */
    long verify;          /* expected verify result */
} connect_case;

static const connect_case connect_cases[] = {
    {true, NULL, {"localhost", NULL}, 0, QUICC_R_NO_ALPN, QUICC_VERIFY_OK},
    {false, NULL, {"localhost", NULL}, 1, QUICC_R_VERIFY_FAILED, QUICC_VERIFY_ERR_UNTRUSTED},
    {true,
     NULL,
     {"not-localhost.example", NULL},
     1,
     QUICC_R_VERIFY_FAILED,
     QUICC_VERIFY_ERR_NAME_MISMATCH},
    /* SNI on the certificate, checked name not: refused (checking the SNI would let it in). */
    {true,
     "localhost",
     {"other.example", NULL},
     1,
     QUICC_R_VERIFY_FAILED,
     QUICC_VERIFY_ERR_NAME_MISMATCH},
    {true, "other.example", {"localhost", NULL}, 1, 0, QUICC_VERIFY_OK},
    {true, "localhost", {NULL, NULL}, 2, 0, QUICC_VERIFY_OK},
    {true, "localhost", {"nope.example", "localhost"}, 1, 0, QUICC_VERIFY_OK},
    {true, "other.example", {NULL, NULL}, 1, QUICC_R_VERIFY_FAILED, QUICC_VERIFY_ERR_NAME_MISMATCH},
};

static bool connect_case_run(as_ctx *g, const connect_case *k, int i) {
    static const unsigned char alpn[] = "\x0aquicc-test";
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    if (k->trust) quicc_ctx_load_verify_file(ctx, g->cert);
    bool ok = true;
    if (k->alpn == 2 && quicc_ctx_set_alpn_protos(ctx, alpn, 11) != 0)
        ok = as_fail(g, "case %d: ctx ALPN refused", i);
    quicc *c = quicc_new(ctx);
    quicc_set1_initial_peer_addr(c, (struct sockaddr *)&g->saddr, g->saddr_len);
    if (k->sni) quicc_set_tlsext_host_name(c, k->sni);
    if (k->hosts[0] && quicc_set1_host(c, k->hosts[0]) != 1) ok = as_fail(g, "set1_host");
    if (k->hosts[1] && quicc_add1_host(c, k->hosts[1]) != 1) ok = as_fail(g, "add1_host");
    if (k->alpn == 1 && quicc_set_alpn_protos(c, alpn, 11) != 0)
        ok = as_fail(g, "case %d: ALPN refused", i);
    if (g->mode != AS_BLOCKING) quicc_set_blocking_mode(c, 0);
    quicc_err_clear();
    uint64_t end = as_now_ms() + 10000;
    int r;
    while ((r = quicc_connect(c)) == -1 && quicc_get_error(c, r) == QUICC_ERROR_WANT_READ &&
           as_now_ms() < end)
        usleep(1000);
    if (!ok) {
    } else if (k->reason == 0) {
        if (r != 1) ok = as_fail(g, "case %d: connect %d/%d", i, r, quicc_get_error(c, r));
    } else if (r == 1 || quicc_get_error(c, r) != QUICC_ERROR_SSL) {
        ok = as_fail(g, "case %d: connect %d/%d", i, r, quicc_get_error(c, r));
    } else {
        ok = as_expect_reason(g, k->reason);
        if (ok && k->reason == QUICC_R_VERIFY_FAILED && quicc_get_verify_result(c) != k->verify)
            ok = as_fail(g, "case %d: verify result %ld (%s)", i, quicc_get_verify_result(c),
                         quicc_verify_result_string(quicc_get_verify_result(c)));
        size_t w;
        if (ok && k->reason == QUICC_R_VERIFY_FAILED) {
            if (quicc_write_ex(c, "x", 1, &w)) ok = as_fail(g, "write after failure");
            if (ok) ok = as_expect_reason(g, QUICC_R_PROTOCOL_IS_SHUTDOWN);
        }
    }
    if (ok && k->reason == 0 && quicc_get_verify_result(c) != QUICC_VERIFY_OK)
        ok = as_fail(g, "case %d: verify result", i);
    quicc_free(c);
    quicc_ctx_free(ctx);
    return ok;
}

static bool connect_failures(as_ctx *g) {
    bool ok = true;
    for (size_t i = 0; i < sizeof(connect_cases) / sizeof(connect_cases[0]) && ok; i++)
        ok = connect_case_run(g, &connect_cases[i], (int)i);
    /* The ALPN setters return 0 on success and 1 on failure, as OpenSSL's do. */
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    quicc *c = quicc_new(ctx);
    static const unsigned char bad[] = "\x05h3";
    quicc_err_clear();
    if (ok && quicc_set_alpn_protos(c, bad, 3) != 1) ok = as_fail(g, "malformed ALPN accepted");
    if (ok) ok = as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT);
    if (ok && quicc_ctx_set_alpn_protos(ctx, bad, 0) != 1) ok = as_fail(g, "empty ALPN accepted");
    if (ok) ok = as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT);
    if (ok && quicc_add1_host(c, "") != 0) ok = as_fail(g, "empty host accepted");
    if (ok) ok = as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT);
    if (ok && quicc_ctx_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_NOPE") != 0)
        ok = as_fail(g, "unknown suite accepted");
    if (ok) ok = as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT);
    if (ok && quicc_ctx_set_ciphersuites(ctx, "TLS_CHACHA20_POLY1305_SHA256") != 1)
        ok = as_fail(g, "ChaCha20 refused");
    quicc_free(c);
    quicc_ctx_free(ctx);
    quicc_err_clear();
    return ok;
}

/* 5 in openssl-quic(7): a stream made with quicc_new_stream before any default stream means
 * the connection never gets one. */
static const as_op script_no_default_after_new_stream[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_NEW_STREAM(1, 0),
    OP_C_WRITE_FAIL(0, E_SSL, QUICC_R_NO_STREAM),
    OP_C_READ_FAIL(0, E_SSL, QUICC_R_NO_STREAM),
    OP_C_WRITE(1, "apple"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "apple"),
    OP_END,
};

/* Resetting a stream whose data and FIN the peer has all acknowledged fails: finished. */
static bool reset_finished(as_ctx *g) {
    quicc *st = quicc_new_stream(g->c, 0);
    size_t w;
    if (!st || quicc_write_ex2(st, "pear", 4, QUICC_WRITE_FLAG_CONCLUDE, &w) != 1)
        return as_fail(g, "write");
    qc_api_conn *c = g->c->c;
    uint64_t sid = quicc_get_stream_id(st), end = as_now_ms() + 10000;
    for (;;) {
        pthread_mutex_lock(c->lock);
        qc_stream_info info;
        bool acked = qc_conn_stream_info(c->engine, sid, &info) == 0 &&
                     info.send_state == QC_SEND_DATA_RECVD;
        pthread_mutex_unlock(c->lock);
        if (acked) break;
        if (as_now_ms() > end) return as_fail(g, "the peer never acknowledged the stream");
        as_client_idle(g);
    }
    quicc_err_clear();
    bool ok = true;
    int r = quicc_stream_reset(st, 5);
    if (r != 0 || quicc_get_error(st, r) != QUICC_ERROR_SSL) ok = as_fail(g, "reset %d", r);
    if (ok) ok = as_expect_reason(g, QUICC_R_STREAM_FINISHED);
    quicc_free(st);
    return ok;
}

static const as_op script_reset_finished[] = {
    OP_C_CONNECT_WAIT(),
    OP_CHECK(reset_finished),
    OP_END,
};

/* The guide's nonblocking shutdown loop: while shutdown says 0, wait on the socket for the
 * event timeout. RAPID says 0 until the closing period ends; the loop must sleep, not
 * spin: every call but the first comes after the event timeout or the socket woke it. */
static bool shutdown_loop(as_ctx *g, uint64_t flags) {
    quicc *c = g->c;
    quicc_set_blocking_mode(c, 0);
    int fd = quicc_get_fd(c), r, calls = 0, zero_timeouts = 0;
    uint64_t start = as_now_ms();
    while ((r = quicc_shutdown_ex(c, flags, NULL)) != 1) {
        if (r < 0) return as_fail(g, "shutdown %d", r);
        if (++calls > 200 || as_now_ms() - start > 10000)
            return as_fail(g, "shutdown loop: %d calls in %llu ms", calls,
                           (unsigned long long)(as_now_ms() - start));
        struct timeval tv;
        int inf = 1;
        if (!quicc_get_event_timeout(c, &tv, &inf)) return as_fail(g, "event timeout");
        if (!inf && tv.tv_sec == 0 && tv.tv_usec == 0) zero_timeouts++;
        if (inf && !quicc_net_read_desired(c))
            return as_fail(g, "shutting down, but nothing to wait for");
        struct pollfd p = {.fd = fd, .events = quicc_net_read_desired(c) ? POLLIN : 0};
        poll(&p, 1, inf ? 1000 : (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000));
    }
    if (flags & QUICC_SHUTDOWN_FLAG_RAPID && calls == 0)
        return as_fail(g, "nonblocking RAPID shutdown said 1 before the closing period ended");
    if (zero_timeouts > 3) return as_fail(g, "%d zero event timeouts while closing", zero_timeouts);
    return true;
}

static bool shutdown_rapid_loop(as_ctx *g) {
    return shutdown_loop(g, QUICC_SHUTDOWN_FLAG_RAPID);
}

static bool shutdown_plain_loop(as_ctx *g) {
    return shutdown_loop(g, 0);
}

static const as_op script_shutdown_rapid_nonblocking[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "plum"),
    OP_CHECK(shutdown_rapid_loop),
    OP_S_EXPECT_CONN_CLOSE_INFO(0, 0, ""),
    OP_END,
};

static const as_op script_shutdown_nonblocking[] = {
    OP_C_CONNECT_WAIT(),
    OP_C_WRITE(0, "plum"),
    OP_S_BIND_STREAM_ID(1, 0),
    OP_S_READ_EXPECT(1, "plum"),
    OP_CHECK(shutdown_plain_loop),
    OP_S_EXPECT_CONN_CLOSE_INFO(0, 0, ""),
    OP_END,
};

/* Ownership rule 4: a connection object freed while stream objects of it live stays until
 * the last of them is freed; meanwhile the streams fail as shut down, and nothing leaks or
 * is used after it is freed (the ASan build checks). */
static bool conn_freed_first(as_ctx *g) {
    static const unsigned char alpn[] = "\x0aquicc-test";
    quicc *c = quicc_new(g->cctx);
    quicc_set1_initial_peer_addr(c, (struct sockaddr *)&g->saddr, g->saddr_len);
    quicc_set_alpn_protos(c, alpn, 11);
    if (quicc_connect(c) != 1) return as_fail(g, "connect");
    quicc *a = quicc_new_stream(c, 0), *b = quicc_new_stream(c, QUICC_STREAM_FLAG_UNI);
    size_t w;
    if (!a || !b || quicc_write_ex(a, "fig", 3, &w) != 1) return as_fail(g, "streams");
    quicc_free(c);
    quicc_err_clear();
    bool ok = true;
    int r = quicc_write_ex(b, "x", 1, &w);
    if (r != 0 || quicc_get_error(b, r) != QUICC_ERROR_SSL) ok = as_fail(g, "write %d", r);
    if (ok) ok = as_expect_reason(g, QUICC_R_PROTOCOL_IS_SHUTDOWN);
    if (ok && quicc_get_stream_write_state(a) != QUICC_STREAM_STATE_CONN_CLOSED)
        ok = as_fail(g, "write state %d", quicc_get_stream_write_state(a));
    if (ok && quicc_get0_connection(a) != c) ok = as_fail(g, "the connection object went");
    quicc_free(a);
    quicc_free(b); /* the connection object goes with the last stream */
    quicc_err_clear();
    return ok;
}

static const as_op script_conn_freed_first[] = {
    OP_CHECK(conn_freed_first),
    OP_END,
};

/* The smaller calls of OpenSSL's client API: peek, pending, the int forms, want, partial
 * writes, handshake RTT, cipher and version, exported keying material (both sides agree),
 * the peer's chain, the key-update type. Stream 1 holds "grape" from the server. */
static bool data_extras(as_ctx *g) {
    quicc *st = g->cs[1];
    uint64_t end = as_now_ms() + 10000;
    while (quicc_pending(st) < 5) {
        if (as_now_ms() > end) return as_fail(g, "pending %d", quicc_pending(st));
        as_client_idle(g);
    }
    if (!quicc_has_pending(st)) return as_fail(g, "has_pending");
    char buf[16];
    size_t n = 0;
    if (!quicc_peek_ex(st, buf, 3, &n) || n != 3 || memcmp(buf, "gra", 3) != 0)
        return as_fail(g, "peek_ex");
    if (quicc_peek(st, buf, sizeof(buf)) != 5 || memcmp(buf, "grape", 5) != 0)
        return as_fail(g, "peek");
    if (quicc_pending(st) != 5) return as_fail(g, "peek consumed");
    if (quicc_read(st, buf, sizeof(buf)) != 5 || memcmp(buf, "grape", 5) != 0)
        return as_fail(g, "read");
    if (quicc_pending(st) != 0 || quicc_has_pending(st)) return as_fail(g, "pending after read");
    if (quicc_read(st, buf, -1) != 0) return as_fail(g, "negative length");
    if (!as_expect_reason(g, QUICC_R_PASSED_INVALID_ARGUMENT)) return false;
    if (g->mode != AS_BLOCKING) {
        quicc_set_blocking_mode(st, 0);
        if (quicc_read(st, buf, sizeof(buf)) != -1 ||
            quicc_get_error(st, -1) != QUICC_ERROR_WANT_READ)
            return as_fail(g, "nonblocking read of nothing");
        if (quicc_want(st) != QUICC_READING || !quicc_want_read(st) || quicc_want_write(st))
            return as_fail(g, "want %d", quicc_want(st));
        if (quicc_peek(st, buf, sizeof(buf)) != -1) return as_fail(g, "nonblocking peek");
    }
    if (quicc_write(st, "kiwi", 4) != 4) return as_fail(g, "int write");
    /* Partial writes: with the mode, a write larger than the send buffer returns with part. */
    if (quicc_set_mode(st, QUICC_MODE_ENABLE_PARTIAL_WRITE) == 0) return as_fail(g, "set_mode");
    static char big[4 << 20];
    size_t w = 0;
    if (quicc_write_ex(st, big, sizeof(big), &w) != 1 || w == 0 || w >= sizeof(big))
        return as_fail(g, "partial write took %zu", w);
    quicc_clear_mode(st, QUICC_MODE_ENABLE_PARTIAL_WRITE);
    quicc_set_blocking_mode(st, 1);
    if (QUICC_MODE_ENABLE_PARTIAL_WRITE != 1 || QUICC_MODE_ACCEPT_MOVING_WRITE_BUFFER != 2)
        return as_fail(g, "mode numbers are not OpenSSL's");
    quicc_stream_reset(st, 1); /* the rest is not wanted */
    return true;
}

static bool tls_extras(as_ctx *g) {
    quicc *c = g->c;
    if (!quicc_get_version(c) || strcmp(quicc_get_version(c), "QUICv1") != 0)
        return as_fail(g, "version");
    const char *cipher = quicc_get_current_cipher_name(c);
    if (!cipher || strncmp(cipher, "TLS_", 4) != 0) return as_fail(g, "cipher %s", cipher);
    uint64_t rtt = 0;
    if (quicc_get_handshake_rtt(c, &rtt) != 1 || rtt == 0 || rtt > 1000000)
        return as_fail(g, "handshake RTT %llu", (unsigned long long)rtt);
    unsigned char a[32], b[32], d[32];
    static const char label[] = "EXPERIMENTAL quicc test";
    if (!quicc_export_keying_material(c, a, 32, label, sizeof(label) - 1,
                                      (const unsigned char *)"ctx", 3, 1) ||
        !quicc_export_keying_material(g->s, b, 32, label, sizeof(label) - 1,
                                      (const unsigned char *)"ctx", 3, 1) ||
        !quicc_export_keying_material(c, d, 32, label, sizeof(label) - 2, NULL, 0, 0))
        return as_fail(g, "export");
    if (memcmp(a, b, 32) != 0) return as_fail(g, "client and server exported different bytes");
    if (memcmp(a, d, 32) == 0) return as_fail(g, "another label gave the same bytes");
    size_t chain = quicc_get_peer_cert_chain_len(c);
    quicc_cert *c0 = quicc_get1_peer_cert_at(c, 0), *cert = quicc_get1_peer_certificate(c);
    size_t l0 = 0, l1 = 0;
    bool same = c0 && cert && quicc_cert_get0_der(c0, &l0) && quicc_cert_get0_der(cert, &l1) &&
                l0 == l1 &&
                memcmp(quicc_cert_get0_der(c0, &l0), quicc_cert_get0_der(cert, &l1), l0) == 0;
    quicc *past = (quicc *)quicc_get1_peer_cert_at(c, chain);
    quicc_cert_free(c0);
    quicc_cert_free(cert);
    if (chain < 1 || !same || past) return as_fail(g, "chain %zu", chain);
    if (quicc_get_shutdown(c) != 0) return as_fail(g, "shutdown state of an open connection");
    if (quicc_get_key_update_type(c) != QUICC_KEY_UPDATE_NONE) return as_fail(g, "key update type");
    /* Before the handshake: no RTT, no keying material. */
    quicc *fresh = quicc_new(g->cctx);
    quicc_err_clear();
    bool ok = quicc_get_handshake_rtt(fresh, &rtt) == 0 && !quicc_get_current_cipher_name(fresh);
    if (ok && quicc_export_keying_material(fresh, a, 32, label, 5, NULL, 0, 0))
        ok = as_fail(g, "export before the handshake");
    if (ok) ok = as_expect_reason(g, QUICC_R_NOT_CONNECTED);
    quicc_free(fresh);
    return ok;
}

static const as_op script_api_extras[] = {
    OP_C_CONNECT_WAIT(),       OP_C_NEW_STREAM(1, 0),    OP_C_WRITE(1, "x"),
    OP_S_BIND_STREAM_ID(1, 0), OP_S_READ_EXPECT(1, "x"), OP_S_WRITE(1, "grape"),
    OP_CHECK(data_extras),     OP_CHECK(tls_extras),     OP_END,
};

/* Offering only ChaCha20 (the interop runner's chacha20 case), and the new-session callback
 * that hands each ticket over as it arrives; then shutdown says what was sent. */
typedef struct {
    unsigned char data[8192];
    size_t len;
    int calls;
} ticket_box;

static int keep_ticket(quicc *conn, const unsigned char *sess, size_t len, void *arg) {
    ticket_box *b = arg;
    (void)conn;
    if (len <= sizeof(b->data)) {
        memcpy(b->data, sess, len);
        b->len = len;
    }
    b->calls++;
    return 1;
}

static bool chacha_and_tickets(as_ctx *g) {
    static const unsigned char alpn[] = "\x0aquicc-test";
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    quicc_ctx_load_verify_file(ctx, g->cert);
    static ticket_box box;
    memset(&box, 0, sizeof(box));
    quicc_ctx_sess_set_new_cb(ctx, keep_ticket, &box);
    bool ok = quicc_ctx_set_ciphersuites(ctx, "TLS_CHACHA20_POLY1305_SHA256") == 1;
    quicc *c = quicc_new(ctx);
    quicc_set1_initial_peer_addr(c, (struct sockaddr *)&g->saddr, g->saddr_len);
    quicc_set_alpn_protos(c, alpn, 11);
    if (ok && quicc_connect(c) != 1) ok = as_fail(g, "connect");
    const char *cipher = ok ? quicc_get_current_cipher_name(c) : NULL;
    if (ok && (!cipher || strcmp(cipher, "TLS_CHACHA20_POLY1305_SHA256") != 0))
        ok = as_fail(g, "cipher %s", cipher ? cipher : "(none)");
    uint64_t end = as_now_ms() + 10000;
    while (ok && box.calls == 0 && as_now_ms() < end) {
        quicc_handle_events(c);
        usleep(2000);
    }
    unsigned char sess[8192];
    size_t slen = sizeof(sess);
    if (ok && (box.calls == 0 || quicc_get_session(c, sess, &slen) != 1 || slen != box.len ||
               memcmp(sess, box.data, slen) != 0))
        ok = as_fail(g, "new-session callback: %d calls, %zu bytes", box.calls, box.len);
    if (ok && quicc_shutdown_ex(c, QUICC_SHUTDOWN_FLAG_RAPID, NULL) != 1) ok = as_fail(g, "close");
    if (ok && !(quicc_get_shutdown(c) & QUICC_SENT_SHUTDOWN)) ok = as_fail(g, "get_shutdown");
    quicc_free(c);
    quicc_ctx_free(ctx);
    quicc_err_clear();
    return ok;
}

/* The context's session cache: with QUICC_SESS_CACHE_CLIENT a second connection to the same
 * server resumes the first one's session by itself; without it, it does not. */
static bool one_conn(as_ctx *g, quicc_ctx *ctx, bool wait_ticket, int *reused) {
    static const unsigned char alpn[] = "\x0aquicc-test";
    quicc *c = quicc_new(ctx);
    quicc_set1_initial_peer_addr(c, (struct sockaddr *)&g->saddr, g->saddr_len);
    quicc_set_tlsext_host_name(c, "localhost");
    quicc_set_alpn_protos(c, alpn, 11);
    bool ok = quicc_connect(c) == 1;
    if (!ok) as_fail(g, "connect");
    *reused = quicc_session_reused(c);
    unsigned char sess[8192];
    size_t slen = sizeof(sess);
    uint64_t end = as_now_ms() + 10000;
    while (ok && wait_ticket && quicc_get_session(c, sess, &slen) != 1 && as_now_ms() < end) {
        quicc_handle_events(c);
        usleep(2000);
        slen = sizeof(sess);
    }
    quicc_shutdown_ex(c, QUICC_SHUTDOWN_FLAG_RAPID, NULL);
    quicc_free(c);
    quicc_err_clear();
    return ok;
}

static bool session_cache(as_ctx *g) {
    for (int mode = 0; mode < 2; mode++) {
        quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
        quicc_ctx_load_verify_file(ctx, g->cert);
        if (quicc_ctx_set_session_cache_mode(ctx, mode ? QUICC_SESS_CACHE_CLIENT : 0) != 0)
            return as_fail(g, "previous mode");
        if (quicc_ctx_get_session_cache_mode(ctx) != (mode ? QUICC_SESS_CACHE_CLIENT : 0))
            return as_fail(g, "mode");
        int r1 = -1, r2 = -1;
        bool ok = one_conn(g, ctx, true, &r1) && one_conn(g, ctx, false, &r2);
        quicc_ctx_free(ctx);
        if (!ok) return false;
        if (r1 != 0 || r2 != mode)
            return as_fail(g, "cache mode %d: first resumed %d, second %d", mode, r1, r2);
    }
    return true;
}

static const as_op script_session_cache[] = {
    OP_CHECK(session_cache),
    OP_END,
};

/* One address that starts handshakes and abandons them (here 40 from 127.0.0.2, each sending
 * its first Initial only) holds at most 16 of the listener's slots; a client from 127.0.0.1
 * is served meanwhile. */
/* A client's first Initial, as a real client sends it (a ClientHello for ALPN quicc-test), with
 * a destination connection ID of its own, sent from fd and then forgotten: an abandoned
 * handshake. A quicc client object cannot be used for this: its nonblocking connect may read
 * the server's answer and finish the handshake. */
static bool send_first_initial(sim *s, uint64_t seed, int fd, const as_ctx *g) {
    sim_reset(s, seed);
    uint8_t dg[1500];
    if (sim_start(s) != 0) return false;
    int n = qc_conn_send(s->client, dg, sizeof(dg), s->now);
    return n > 0 &&
           sendto(fd, dg, (size_t)n, 0, (const struct sockaddr *)&g->saddr, g->saddr_len) == n;
}

static bool abandoned_handshakes(as_ctx *g) {
    static const unsigned char alpn[] = "\x0aquicc-test";
    int fds[40];
    uint64_t dropped0 = 0, v = 0;
    quicc_get_value_uint(g->listener, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_LISTENER_DROPPED,
                         &dropped0);
    sim s;
    if (sim_init(&s, 1, "quicc-test") != 0) return as_fail(g, "simulator");
    bool ok = true;
    for (int i = 0; i < 40 && ok; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000002)};
        fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof(a)) != 0)
            return as_fail(g, "bind 127.0.0.2");
        if (!send_first_initial(&s, 100 + (uint64_t)i, fds[i], g))
            ok = as_fail(g, "first Initial %d", i);
    }
    sim_free(&s);
    quicc_err_clear();
    /* The flood fills its 16 slots (40 Initials sent; some may be lost in the kernel), and
     * the listener refuses it more. */
    uint64_t end = as_now_ms() + 5000;
    do {
        usleep(10000);
        quicc_get_value_uint(g->listener, QUICC_VALUE_CLASS_GENERIC,
                             QUICC_VALUE_LISTENER_HANDSHAKES, &v);
    } while (v < 16 && as_now_ms() < end);
    usleep(50000);
    quicc_get_value_uint(g->listener, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_LISTENER_HANDSHAKES,
                         &v);
    if (v > 16 || v < 8) { /* 8: the flood did fill slots (a datagram may be lost) */
        uint64_t rs = 0, dr = 0, sh = 0;
        quicc_get_value_uint(g->listener, QUICC_VALUE_CLASS_GENERIC,
                             QUICC_VALUE_LISTENER_RETRY_SENT, &rs);
        quicc_get_value_uint(g->listener, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_LISTENER_DROPPED,
                             &dr);
        quicc_get_value_uint(g->listener, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_LISTENER_SHED,
                             &sh);
        ok = as_fail(
            g, "%llu handshakes pending from one address (retries %llu, dropped %llu, shed %llu)",
            (unsigned long long)v, (unsigned long long)rs, (unsigned long long)dr,
            (unsigned long long)sh);
    }
    quicc_get_value_uint(g->listener, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_LISTENER_DROPPED, &v);
    if (ok && v <= dropped0) ok = as_fail(g, "nothing of the flood was refused");
    /* A client from another address connects while the flood's handshakes linger. */
    quicc *c = quicc_new(g->cctx);
    quicc_set1_initial_peer_addr(c, (struct sockaddr *)&g->saddr, g->saddr_len);
    quicc_set_alpn_protos(c, alpn, 11);
    if (ok && quicc_connect(c) != 1) ok = as_fail(g, "a normal client was not served");
    quicc_shutdown_ex(c, QUICC_SHUTDOWN_FLAG_RAPID, NULL);
    quicc_free(c);
    for (int i = 0; i < 40; i++)
        close(fds[i]);
    quicc_err_clear();
    return ok;
}

static const as_op script_abandoned_handshakes[] = {
    OP_C_CONNECT_WAIT(),
    OP_CHECK(abandoned_handshakes),
    OP_END,
};

static const as_op script_chacha_and_tickets[] = {
    OP_CHECK(chacha_and_tickets),
    OP_END,
};

static const as_op script_connect_failures[] = {
    OP_CHECK(connect_failures),
    OP_END,
};

/* Shutdown without flushing: data still buffered is dropped, the close goes out at once. */
static bool no_flush(as_ctx *g) {
    quicc *c = g->c;
    bool was_blocking = quicc_get_blocking_mode(c);
    quicc_set_blocking_mode(c, 0);
    quicc_set_value_uint(c, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_EVENT_HANDLING_MODE,
                         QUICC_EVENT_HANDLING_MODE_EXPLICIT);
    static char data[65536];
    size_t w;
    if (quicc_write_ex(c, data, sizeof(data), &w) != 1 || w != sizeof(data))
        return as_fail(g, "buffered write");
    quicc_set_blocking_mode(c, was_blocking);
    quicc_shutdown_ex_args a = {.quic_error_code = 3, .quic_reason = "no flush"};
    uint64_t end = as_now_ms() + 10000;
    int r;
    while ((r = quicc_shutdown_ex(c, QUICC_SHUTDOWN_FLAG_NO_STREAM_FLUSH, &a)) != 1) {
        if (r < 0 || as_now_ms() > end) return as_fail(g, "shutdown %d", r);
        as_client_idle(g);
    }
    return true;
}

static const as_op script_no_flush[] = {
    OP_C_CONNECT_WAIT(),
    OP_CHECK(no_flush),
    OP_S_EXPECT_CONN_CLOSE_INFO(3, 0, "no flush"),
    OP_C_EXPECT_CONN_CLOSE_INFO(3, LOCAL, "no flush"),
    OP_END,
};

/* The listener's socket fails: poll reports EL, accepting fails with a network error. */
static bool listener_fails(as_ctx *g) {
    int nul = open("/dev/null", O_RDWR);
    if (nul < 0 || dup2(nul, g->lfd) < 0) return as_fail(g, "dup2");
    close(nul);
    quicc_poll_item it = {.desc = g->listener, .events = QUICC_POLL_EVENT_EL | QUICC_POLL_EVENT_IC};
    struct timeval tv = {5, 0};
    size_t n = 0;
    if (!quicc_poll(&it, 1, sizeof(it), &tv, 0, &n) || n != 1 || it.revents != QUICC_POLL_EVENT_EL)
        return as_fail(g, "poll: count %zu events 0x%llx", n, (unsigned long long)it.revents);
    quicc_err_clear();
    if (quicc_accept_connection(g->listener, QUICC_ACCEPT_CONNECTION_NO_BLOCK))
        return as_fail(g, "accepted a connection");
    if (quicc_get_error(g->listener, 0) != QUICC_ERROR_SYSCALL) return as_fail(g, "error kind");
    return as_expect_reason(g, QUICC_R_NETWORK_ERROR);
}

static const as_op script_listener_fails[] = {
    OP_C_CONNECT_WAIT(),
    OP_CHECK(listener_fails),
    OP_END,
};

/* Blocking new_stream waits for stream credit; nonblocking fails at once. */
typedef struct {
    quicc *conn, *got;
    _Atomic int done;
} opener;

static void *open_one(void *arg) {
    opener *o = arg;
    o->got = quicc_new_stream(o->conn, 0);
    atomic_store(&o->done, 1);
    return NULL;
}

static bool credit_wait(as_ctx *g) {
    quicc *st[100];
    for (int i = 0; i < 100; i++)
        if (!(st[i] = quicc_new_stream(g->c, QUICC_STREAM_FLAG_NO_BLOCK)))
            return as_fail(g, "stream %d", i);
    size_t w;
    quicc_set_blocking_mode(st[0], 1);
    if (quicc_write_ex2(st[0], "x", 1, QUICC_WRITE_FLAG_CONCLUDE, &w) != 1)
        return as_fail(g, "write");
    bool ok = true;
    if (g->mode != AS_BLOCKING) {
        quicc_err_clear();
        if (quicc_new_stream(g->c, 0)) ok = as_fail(g, "nonblocking new_stream without credit");
        if (ok && quicc_get_error(g->c, 0) != QUICC_ERROR_SSL) ok = as_fail(g, "error kind");
        if (ok) ok = as_expect_reason(g, QUICC_R_STREAM_COUNT_LIMITED);
    } else {
        opener o = {.conn = g->c};
        pthread_t th;
        pthread_create(&th, NULL, open_one, &o);
        usleep(200000);
        if (atomic_load(&o.done)) ok = as_fail(g, "new_stream did not wait for credit");
        /* The server finishes stream 0: MAX_STREAMS lets the waiting call go on. */
        as_op ops[] = {OP_S_BIND_STREAM_ID(15, 0), OP_S_READ_EXPECT(15, "x"), OP_S_EXPECT_FIN(15),
                       OP_S_CONCLUDE(15), OP_S_FREE_STREAM(15)};
        for (size_t k = 0; k < QC_ARRAY_LEN(ops) && ok; k++)
            ok = as_run_op(g, &ops[k]);
        g->cs[1] = st[0];
        as_op fin = OP_C_EXPECT_FIN(1);
        if (ok) ok = as_run_op(g, &fin);
        g->cs[1] = NULL;
        quicc_free(st[0]);
        st[0] = NULL;
        pthread_join(th, NULL);
        if (ok && (!o.got || quicc_get_stream_id(o.got) != 400))
            ok = as_fail(g, "the waiting new_stream got %llu",
                         o.got ? (unsigned long long)quicc_get_stream_id(o.got) : 0ull);
        quicc_free(o.got);
    }
    for (int i = 0; i < 100; i++)
        quicc_free(st[i]);
    return ok;
}

static const as_op script_credit_wait[] = {
    OP_C_SET_DEFAULT_STREAM_MODE(QUICC_DEFAULT_STREAM_MODE_NONE),
    OP_C_CONNECT_WAIT(),
    OP_CHECK(credit_wait),
    OP_END,
};

/* The event timeout: infinite before anything runs, finite (idle timer) once connected. */
static bool event_timeout(as_ctx *g) {
    quicc *c2 = quicc_new(g->cctx);
    struct timeval tv = {1, 1};
    int inf = 0;
    if (!quicc_get_event_timeout(c2, &tv, &inf) || !inf || tv.tv_sec || tv.tv_usec)
        return as_fail(g, "unstarted connection: timeout not infinite");
    quicc_free(c2);
    if (!quicc_get_event_timeout(g->c, &tv, &inf) || inf || tv.tv_sec > 30)
        return as_fail(g, "connected: timeout %lld s infinite %d", (long long)tv.tv_sec, inf);
    if (!quicc_net_read_desired(g->c)) return as_fail(g, "read not desired while connected");
    return true;
}

static const as_op script_event_timeout[] = {
    OP_C_CONNECT_WAIT(),
    OP_CHECK(event_timeout),
    OP_END,
};

/* RTT samples use the time datagrams arrived, not the time a slow application read them:
 * a client that looks at its socket only every 150 ms still measures a loopback RTT. */
static bool rtt_stall(as_ctx *g) {
    for (int i = 0; i < 6; i++) {
        size_t w;
        if (quicc_write_ex(g->c, "ping", 4, &w) != 1 &&
            quicc_get_error(g->c, 0) != QUICC_ERROR_WANT_WRITE)
            return as_fail(g, "write");
        usleep(150000); /* the ACK waits in the socket meanwhile */
        quicc_handle_events(g->c);
    }
    qc_api_conn *c = g->c->c;
    qc_conn_stats st;
    pthread_mutex_lock(c->lock);
    qc_conn_get_stats(c->engine, &st);
    pthread_mutex_unlock(c->lock);
    if (st.srtt > 50 * QC_MS)
        return as_fail(g, "smoothed RTT %llu us after stalls",
                       (unsigned long long)(st.srtt / QC_US));
    return true;
}

static const as_op script_rtt_stall[] = {
    OP_C_CONNECT_WAIT(),
    OP_CHECK(rtt_stall),
    OP_END,
};

typedef struct {
    const char *name;
    const as_op *script;
} named_script;

#define S(n)                                                                                       \
    { #n, n }
static const named_script scripts[] = {
    S(script_1),
    S(script_2),
    S(script_2r),
    S(script_2a),
    S(script_3),
    S(script_4),
    S(script_5),
    S(script_6),
    S(script_7),
    S(script_8),
    S(script_9),
    S(script_10),
    S(script_10s),
    S(script_11),
    S(script_12),
    S(script_13),
    S(script_14),
    S(script_15),
    S(script_16),
    S(script_17),
    S(script_18),
    S(script_19),
    S(script_20),
    S(script_40),
    S(script_60),
    S(script_72),
    S(script_73),
    S(script_74),
    S(script_75),
    S(script_76),
    S(script_77),
    S(script_78),
    S(script_79),
    S(script_80),
    S(script_81),
    S(script_82),
    S(script_83),
    S(script_84),
    S(script_85),
    S(script_86),
    S(script_write_retry),
    S(script_misuse),
    S(script_connect_failures),
    S(script_api_extras),
    S(script_chacha_and_tickets),
    S(script_abandoned_handshakes),
    S(script_session_cache),
    S(script_conn_freed_first),
    S(script_openssl_numbers),
    S(script_no_default_after_new_stream),
    S(script_reset_finished),
    S(script_shutdown_rapid_nonblocking),
    S(script_shutdown_nonblocking),
    S(script_no_flush),
    S(script_listener_fails),
    S(script_credit_wait),
    S(script_event_timeout),
    S(script_rtt_stall),
};

int main(int argc, char **argv) {
    alarm(900); /* a hang fails the test instead of stalling the suite */
    int passed = 0, failed = 0;
    for (size_t i = 0; i < QC_ARRAY_LEN(scripts); i++) {
        if (argc > 1 && strcmp(argv[1], scripts[i].name) != 0) continue;
        for (int m = 0; m < AS_MODES; m++) {
            if (argc > 2 && strcmp(argv[2], as_mode_name((enum as_mode)m)) != 0) continue;
            uint64_t t0 = as_now_ms();
            bool ok = as_run(scripts[i].name, scripts[i].script, (enum as_mode)m);
            printf("%-4s %s [%s] %llu ms\n", ok ? "ok" : "FAIL", scripts[i].name,
                   as_mode_name((enum as_mode)m), (unsigned long long)(as_now_ms() - t0));
            fflush(stdout);
            ok ? passed++ : failed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
