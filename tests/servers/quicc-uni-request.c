/*
 * quicc-uni-request: the request pattern of OpenSSL's quic-multi-stream demo:
 * an HTTP/1.0 request on a client unidirectional stream with no FIN; the
 * server answers on a stream of its own, accepted here and written to stdout
 * without the status line and headers. Blocking mode throughout.
 *
 * usage: quicc-uni-request PORT CAFILE PATH
 */
#include "quicc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    if (!quicc_ctx_load_verify_file(ctx, argv[2])) return 1;
    quicc *ssl = quicc_new(ctx);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    static const unsigned char alpn[] = "\x08http/1.0";
    quicc_set1_initial_peer_addr(ssl, (struct sockaddr *)&sin, sizeof(sin));
    quicc_set_tlsext_host_name(ssl, "localhost");
    quicc_set1_host(ssl, "localhost");
    quicc_set_alpn_protos(ssl, alpn, 9);
    quicc_set_default_stream_mode(ssl, QUICC_DEFAULT_STREAM_MODE_NONE);
    if (quicc_connect(ssl) != 1) {
        quicc_err_print(stderr);
        return 1;
    }
    quicc *uni = quicc_new_stream(ssl, QUICC_STREAM_FLAG_UNI);
    char req[2048];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", argv[3]);
    size_t w;
    if (!uni || !quicc_write_ex(uni, req, (size_t)n, &w)) {
        quicc_err_print(stderr);
        return 1;
    }
    quicc *reply = quicc_accept_stream(ssl, 0);
    if (!reply || quicc_get_stream_type(reply) != QUICC_STREAM_TYPE_READ) {
        fprintf(stderr, "no server-initiated unidirectional reply stream\n");
        return 1;
    }
    static char buf[1 << 20];
    size_t total = 0, r;
    while (total < sizeof(buf) && quicc_read_ex(reply, buf + total, sizeof(buf) - total, &r))
        total += r;
    if (quicc_get_error(reply, 0) != QUICC_ERROR_ZERO_RETURN) {
        quicc_err_print(stderr);
        return 1;
    }
    char *body = strstr(buf, "\r\n\r\n");
    if (!body || strncmp(buf, "HTTP/1.0 200", 12) != 0) {
        fprintf(stderr, "bad response\n");
        return 1;
    }
    body += 4;
    fwrite(body, 1, total - (size_t)(body - buf), stdout);
    quicc_free(reply);
    quicc_free(uni);
    quicc_shutdown(ssl);
    quicc_free(ssl);
    quicc_ctx_free(ctx);
    return 0;
}
