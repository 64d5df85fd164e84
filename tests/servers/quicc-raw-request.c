/*
 * quicc-raw-request: sends a request as given (C escapes \r and \n understood) on one
 * bidirectional stream with the end of the stream, and prints the raw answer (status line,
 * headers and body as they came). For HTTP/0.9, a reset stream prints "RESET <code>".
 * Blocking mode throughout.
 *
 * usage: quicc-raw-request PORT CAFILE ALPN REQUEST   (ALPN: http/1.0 or hq-interop)
 */
#include "quicc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 5) return 2;
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    if (!quicc_ctx_load_verify_file(ctx, argv[2])) return 1;
    quicc *ssl = quicc_new(ctx);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    unsigned char alpn[64];
    size_t al = strlen(argv[3]);
    if (al == 0 || al > 60) return 2;
    alpn[0] = (unsigned char)al;
    memcpy(alpn + 1, argv[3], al);
    quicc_set1_initial_peer_addr(ssl, (struct sockaddr *)&sin, sizeof(sin));
    quicc_set_tlsext_host_name(ssl, "localhost");
    quicc_set1_host(ssl, "localhost");
    quicc_set_alpn_protos(ssl, alpn, (unsigned)al + 1);
    if (quicc_connect(ssl) != 1) {
        quicc_err_print(stderr);
        return 1;
    }
    char req[4096];
    size_t n = 0;
    for (const char *p = argv[4]; *p && n < sizeof(req); p++) {
        if (p[0] == '\\' && (p[1] == 'r' || p[1] == 'n')) {
            req[n++] = p[1] == 'r' ? '\r' : '\n';
            p++;
        } else {
            req[n++] = *p;
        }
    }
    size_t w;
    if (!quicc_write_ex2(ssl, req, n, QUICC_WRITE_FLAG_CONCLUDE, &w)) {
        quicc_err_print(stderr);
        return 1;
    }
    static char buf[1 << 20];
    size_t total = 0, r;
    while (total < sizeof(buf) && quicc_read_ex(ssl, buf + total, sizeof(buf) - total, &r))
        total += r;
    uint64_t code = 0;
    if (quicc_get_error(ssl, 0) != QUICC_ERROR_ZERO_RETURN) {
        if (quicc_get_stream_read_error_code(ssl, &code) == 1) {
            printf("RESET %llu\n", (unsigned long long)code);
        } else {
            quicc_err_print(stderr);
            return 1;
        }
    } else {
        fwrite(buf, 1, total, stdout);
    }
    quicc_shutdown(ssl);
    quicc_free(ssl);
    quicc_ctx_free(ctx);
    return 0;
}
