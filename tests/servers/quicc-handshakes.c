/*
 * quicc-handshakes: opens N connections one after another to a server on
 * loopback (handshake, then an immediate close) and prints handshakes per
 * second. Used by bench/bench_server.sh.
 *
 * usage: quicc-handshakes PORT N CAFILE|- [graceful]  ("-": do not verify; "graceful": a
 * full close instead of a rapid one, so that the server's NEW_TOKEN arrives and is kept for
 * the next connection)
 */
#include "quicc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s PORT N CAFILE|- [graceful]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[2]);
    if (port <= 0 || port > 65535 || n <= 0 || n > 100000) return 2;
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    if (strcmp(argv[3], "-") == 0)
        quicc_ctx_set_verify(ctx, QUICC_VERIFY_NONE);
    else if (!quicc_ctx_load_verify_file(ctx, argv[3]))
        return 1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    static const unsigned char alpn[] = "\x02h3";
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        quicc *s = quicc_new(ctx);
        quicc_set1_initial_peer_addr(s, (struct sockaddr *)&sin, sizeof(sin));
        quicc_set_tlsext_host_name(s, "localhost");
        quicc_set1_host(s, "localhost");
        quicc_set_alpn_protos(s, alpn, 3);
        if (quicc_connect(s) == 1) {
            ok++;
            if (argc == 5)
                quicc_shutdown(s);
            else
                quicc_shutdown_ex(s, QUICC_SHUTDOWN_FLAG_RAPID, NULL);
        } else {
            quicc_err_print(stderr);
        }
        quicc_free(s);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%d/%d handshakes in %.3f s: %.0f handshakes/s\n", ok, n, secs, ok / secs);
    quicc_ctx_free(ctx);
    return ok == n ? 0 : 1;
}
