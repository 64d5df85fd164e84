/*
 * quicc-idle: the idle-timeout behaviour of a nonblocking client (idle timeout
 * 1 s). Mode "tick": it sleeps until the event timeout and calls
 * quicc_handle_events for 2.5 s, then fetches a file over hq-interop: the
 * connection must still be alive (keep-alive PINGs). Mode "sleep": it does
 * nothing for 2.5 s, then the fetch must fail with an idle-timeout close. Mode "thread":
 * a thread-assisted client (QUICC_CLIENT_THREAD) does nothing for 2.5 s, and its
 * background thread keeps the connection alive, so the fetch succeeds.
 *
 * usage: quicc-idle PORT CAFILE PATH tick|sleep|thread   (exit 0 when the expectation holds)
 */
#include "quicc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) return 2;
    bool thread = strcmp(argv[4], "thread") == 0;
    bool tick = strcmp(argv[4], "tick") == 0 || thread; /* success expected */
    quicc_ctx *ctx = quicc_ctx_new(thread ? QUICC_CLIENT_THREAD : QUICC_CLIENT);
    if (!quicc_ctx_load_verify_file(ctx, argv[2])) return 1;
    quicc *ssl = quicc_new(ctx);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    static const unsigned char alpn[] = "\x0ahq-interop";
    quicc_set1_initial_peer_addr(ssl, (struct sockaddr *)&sin, sizeof(sin));
    quicc_set_tlsext_host_name(ssl, "localhost");
    quicc_set1_host(ssl, "localhost");
    quicc_set_alpn_protos(ssl, alpn, 11);
    if (!quicc_set_value_uint(ssl, QUICC_VALUE_CLASS_FEATURE_REQUEST, QUICC_VALUE_QUIC_IDLE_TIMEOUT,
                              1000))
        return 1;
    if (quicc_connect(ssl) != 1) {
        quicc_err_print(stderr);
        return 1;
    }
    uint64_t negotiated = 0;
    quicc_get_value_uint(ssl, QUICC_VALUE_CLASS_FEATURE_NEGOTIATED, QUICC_VALUE_QUIC_IDLE_TIMEOUT,
                         &negotiated);
    if (negotiated != 1000) {
        fprintf(stderr, "negotiated idle timeout %llu, expected 1000\n",
                (unsigned long long)negotiated);
        return 1;
    }
    quicc_set_blocking_mode(ssl, 0);
    double end = now() + 2.5;
    if (tick && !thread) {
        while (now() < end) {
            struct timeval tv;
            int inf = 1;
            quicc_get_event_timeout(ssl, &tv, &inf);
            int ms = inf ? 100 : (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
            int left = (int)((end - now()) * 1000);
            struct pollfd p = {.fd = quicc_get_fd(ssl), .events = POLLIN};
            poll(&p, 1, ms < left ? ms : left);
            quicc_handle_events(ssl);
        }
    } else {
        usleep(2500000);
    }
    /* A request on the default stream, nonblocking. */
    char req[512];
    int n = snprintf(req, sizeof(req), "GET %s\r\n", argv[3]);
    size_t w, r, total = 0;
    int ok = 0;
    double give_up = now() + 5;
    while (!quicc_write_ex2(ssl, req, (size_t)n, QUICC_WRITE_FLAG_CONCLUDE, &w)) {
        if (quicc_get_error(ssl, 0) != QUICC_ERROR_WANT_WRITE || now() > give_up) goto failed;
        quicc_handle_events(ssl);
    }
    char buf[65536];
    for (;;) {
        if (quicc_read_ex(ssl, buf, sizeof(buf), &r)) {
            total += r;
            continue;
        }
        int e = quicc_get_error(ssl, 0);
        if (e == QUICC_ERROR_ZERO_RETURN) {
            ok = 1;
            break;
        }
        if (e != QUICC_ERROR_WANT_READ || now() > give_up) goto failed;
        struct pollfd p = {.fd = quicc_get_fd(ssl), .events = POLLIN};
        poll(&p, 1, 10);
        quicc_handle_events(ssl);
    }
    printf("fetched %zu bytes\n", total);
    quicc_free(ssl);
    quicc_ctx_free(ctx);
    return tick && ok ? 0 : 1;
failed:;
    unsigned long reason = quicc_err_get();
    quicc_conn_close_info ci;
    int have = quicc_get_conn_close_info(ssl, &ci);
    printf("failed: %s; close info %d: local=%d transport=%d code=%llu reason=%.*s\n",
           quicc_err_reason_string(reason), have, have && (ci.flags & QUICC_CONN_CLOSE_FLAG_LOCAL),
           have && (ci.flags & QUICC_CONN_CLOSE_FLAG_TRANSPORT),
           have ? (unsigned long long)ci.error_code : 0ULL, have ? (int)ci.reason_len : 0,
           have ? ci.reason : "");
    bool expected = !tick && reason == QUICC_R_PROTOCOL_IS_SHUTDOWN && have &&
                    (ci.flags & QUICC_CONN_CLOSE_FLAG_LOCAL) && ci.error_code == 0 &&
                    ci.reason_len == 12 && memcmp(ci.reason, "idle timeout", 12) == 0;
    quicc_free(ssl);
    quicc_ctx_free(ctx);
    return expected ? 0 : 1;
}
