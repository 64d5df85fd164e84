/*
 * err.c: the per-thread error queue behind quicc_err_get() and friends.
 * Every failing API call pushes one entry: a QUICC_R_* reason and a detail
 * string (the reason text plus context, e.g. the verification failure).
 */
#include "api/api_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ERR_QUEUE 16

typedef struct err_entry {
    unsigned long reason;
    char detail[192];
} err_entry;

static _Thread_local err_entry err_q[ERR_QUEUE];
static _Thread_local unsigned err_head, err_len;
static _Thread_local char err_last_detail[192];

static const char *const reason_text[] = {
    [QUICC_R_NONE] = "no error",
    [QUICC_R_STREAM_COUNT_LIMITED] = "stream count limited",
    [QUICC_R_STREAM_FINISHED] = "stream finished",
    [QUICC_R_CONN_USE_ONLY] = "connection use only",
    [QUICC_R_PROTOCOL_IS_SHUTDOWN] = "protocol is shutdown",
    [QUICC_R_NETWORK_ERROR] = "network error",
    [QUICC_R_VERIFY_FAILED] = "certificate verify failed",
    [QUICC_R_STREAM_RESET] = "stream reset",
    [QUICC_R_NO_ALPN] = "no application protocol set",
    [QUICC_R_STREAM_RECV_ONLY] = "stream is receive-only",
    [QUICC_R_STREAM_SEND_ONLY] = "stream is send-only",
    [QUICC_R_NO_STREAM] = "no stream",
    [QUICC_R_PASSED_INVALID_ARGUMENT] = "passed invalid argument",
    [QUICC_R_HANDSHAKE_FAILED] = "handshake failed",
    [QUICC_R_IDLE_TIMEOUT] = "idle timeout",
    [QUICC_R_INTERNAL_ERROR] = "internal error",
    [QUICC_R_NOT_CONNECTED] = "not connected",
    [QUICC_R_BAD_WRITE_RETRY] = "bad write retry",
    [QUICC_R_DEFAULT_STREAM_EXISTS] = "connection already has a default stream",
    [QUICC_R_KEY_UPDATE_PENDING] = "key update in progress",
    [QUICC_R_NO_SESSION] = "no session ticket received",
};

void qc_api_err_push(unsigned long reason, const char *fmt, ...) {
    err_entry *e;
    if (err_len == ERR_QUEUE) { /* full: drop the oldest */
        err_head = (err_head + 1) % ERR_QUEUE;
        err_len--;
    }
    e = &err_q[(err_head + err_len) % ERR_QUEUE];
    err_len++;
    e->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
    va_end(ap);
}

unsigned long quicc_err_get(void) {
    if (!err_len) return 0;
    err_entry *e = &err_q[err_head];
    err_head = (err_head + 1) % ERR_QUEUE;
    err_len--;
    memcpy(err_last_detail, e->detail, sizeof(err_last_detail));
    return e->reason;
}

unsigned long quicc_err_peek(void) {
    return err_len ? err_q[err_head].reason : 0;
}

void quicc_err_clear(void) {
    err_head = err_len = 0;
}

const char *quicc_err_reason_string(unsigned long e) {
    if (e < sizeof(reason_text) / sizeof(reason_text[0]) && reason_text[e]) return reason_text[e];
    return "unknown reason";
}

const char *quicc_err_detail(void);
const char *quicc_err_detail(void) {
    return err_last_detail;
}

void quicc_err_print(void *fp) {
    FILE *f = fp;
    while (err_len) {
        unsigned long r = quicc_err_get();
        fprintf(f, "quicc: error: %s: %s\n", quicc_err_reason_string(r), err_last_detail);
    }
}
