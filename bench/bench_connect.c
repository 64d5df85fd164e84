/*
 * bench_connect: how long quicc_connect takes for the first and later connections made
 * from one context that trusts the system store (quicc_ctx_set_default_verify_paths),
 * against an in-process listener on loopback. Run it with SSL_CERT_DIR=/etc/ssl/certs and
 * SSL_CERT_FILE=CERT so that the store is the system's plus the server's certificate
 * (bench/bench_connect.sh does).
 *
 * usage: bench_connect CERT KEY [N]   (default N = 10)
 * Prints the time of every connect in milliseconds.
 */
#include "quicc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static quicc *listener;
static int lfd;
static atomic_int stop;

static void *serve(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        quicc_handle_events(listener);
        quicc *c;
        while ((c = quicc_accept_connection(listener, QUICC_ACCEPT_CONNECTION_NO_BLOCK)))
            quicc_free(c);
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        poll(&p, 1, 5);
    }
    return NULL;
}

static double ms_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s CERT KEY [N]\n", argv[0]);
        return 2;
    }
    int n = argc == 4 ? atoi(argv[3]) : 10;
    static const unsigned char alpn[] = "\x02h3";
    quicc_ctx *sctx = quicc_ctx_new(QUICC_SERVER);
    if (!quicc_ctx_use_certificate_chain_file(sctx, argv[1]) ||
        !quicc_ctx_use_PrivateKey_file(sctx, argv[2]))
        return 1;
    quicc_ctx_set_alpn_protos(sctx, alpn, 3);
    lfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    socklen_t sl = sizeof(sin);
    if (bind(lfd, (struct sockaddr *)&sin, sl) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sin, &sl) != 0)
        return 1;
    listener = quicc_new_listener(sctx, 0);
    if (!listener || !quicc_set_fd(listener, lfd) || !quicc_listen(listener)) {
        quicc_err_print(stderr);
        return 1;
    }
    pthread_t th;
    pthread_create(&th, NULL, serve, NULL);
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    quicc_ctx_set_default_verify_paths(ctx);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        quicc *c = quicc_new(ctx);
        quicc_set1_initial_peer_addr(c, (struct sockaddr *)&sin, sizeof(sin));
        quicc_set_tlsext_host_name(c, "localhost");
        quicc_set1_host(c, "localhost");
        quicc_set_alpn_protos(c, alpn, 3);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int r = quicc_connect(c);
        double ms = ms_since(&t0);
        if (r != 1) {
            quicc_err_print(stderr);
            rc = 1;
        }
        printf("connect %d: %.1f ms%s\n", i + 1, ms, r == 1 ? "" : " (failed)");
        quicc_shutdown_ex(c, QUICC_SHUTDOWN_FLAG_RAPID, NULL);
        quicc_free(c);
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    quicc_free(listener);
    quicc_ctx_free(ctx);
    quicc_ctx_free(sctx);
    return rc;
}
