/*
 * quic-server-block: a port of OpenSSL's demos/guide/quic-server-block.c to
 * quicc. A blocking QUIC server on IPv4 that accepts one connection at a time,
 * echoes everything the client sends on its first stream back to it, then
 * concludes the stream and shuts the connection down.
 *
 * usage: quic-server-block PORT CERT KEY
 */
#include <quicc.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ALPN strings for TLS handshake; both hq-interop and our demo protocol. */
static const unsigned char alpn_ossltest[] = {
    10, 'h', 'q', '-', 'i', 'n', 't', 'e', 'r', 'o', 'p', 8, 'h', 't', 't', 'p', '/', '1', '.', '0',
};

/* Creates the context with the server's certificate and key. */
static quicc_ctx *create_ctx(const char *cert_path, const char *key_path) {
    quicc_ctx *ctx = quicc_ctx_new(QUICC_SERVER);
    if (ctx == NULL) goto err;
    if (quicc_ctx_use_certificate_chain_file(ctx, cert_path) <= 0) {
        fprintf(stderr, "couldn't load certificate file: %s\n", cert_path);
        goto err;
    }
    if (quicc_ctx_use_PrivateKey_file(ctx, key_path) <= 0) {
        fprintf(stderr, "couldn't load key file: %s\n", key_path);
        goto err;
    }
    if (quicc_ctx_set_alpn_protos(ctx, alpn_ossltest, sizeof(alpn_ossltest)) != 0) goto err;
    return ctx;
err:
    quicc_err_print(stderr);
    quicc_ctx_free(ctx);
    return NULL;
}

/* Creates a UDP socket bound to the given port on all IPv4 addresses. */
static int create_socket(uint16_t port) {
    struct sockaddr_in sa = {0};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        fprintf(stderr, "cannot create socket\n");
        return -1;
    }
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
        fprintf(stderr, "cannot bind to %u\n", port);
        close(fd);
        return -1;
    }
    return fd;
}

/* Serves one client at a time: echo its first stream back, then shut down. */
static int run_quic_server(quicc_ctx *ctx, int fd) {
    int ok = 0;
    quicc *listener = quicc_new_listener(ctx, 0);
    if (listener == NULL) goto err;
    /* The listener takes the (nonblocking-capable) UDP socket; quicc never closes it. */
    if (!quicc_set_fd(listener, fd)) goto err;
    if (!quicc_listen(listener)) goto err;
    for (;;) {
        unsigned char buf[8192];
        size_t nread, nwritten, total = 0;
        /* Blocks until a client has completed its handshake. */
        quicc *conn = quicc_accept_connection(listener, 0);
        if (conn == NULL) {
            fprintf(stderr, "error while accepting connection\n");
            goto err;
        }
        /* Echo the client's first stream (the connection's default stream) to FIN. */
        while (quicc_read_ex(conn, buf, sizeof(buf), &nread) > 0) {
            if (quicc_write_ex(conn, buf, nread, &nwritten) <= 0 || nwritten != nread) {
                fprintf(stderr, "error writing response\n");
                break;
            }
            total += nwritten;
        }
        if (quicc_get_error(conn, 0) != QUICC_ERROR_ZERO_RETURN)
            fprintf(stderr, "stream ended abnormally\n");
        quicc_stream_conclude(conn, 0);
        printf("echoed %zu bytes\n", total);
        fflush(stdout);
        /* Plain shutdown flushes the stream, then closes; it may take a few round trips. */
        while (quicc_shutdown(conn) != 1)
            continue;
        quicc_free(conn);
    }
    ok = 1;
err:
    if (!ok) quicc_err_print(stderr);
    quicc_free(listener);
    return ok;
}

int main(int argc, char *argv[]) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s <port> <server.crt> <server.key>\n", argv[0]);
        return EXIT_FAILURE;
    }
    quicc_ctx *ctx = create_ctx(argv[2], argv[3]);
    if (ctx == NULL) return EXIT_FAILURE;
    unsigned long port = strtoul(argv[1], NULL, 0);
    if (port == 0 || port > 65535) {
        fprintf(stderr, "invalid port: %s\n", argv[1]);
        return EXIT_FAILURE;
    }
    int fd = create_socket((uint16_t)port);
    if (fd < 0) return EXIT_FAILURE;
    int res = run_quic_server(ctx, fd) ? EXIT_SUCCESS : EXIT_FAILURE;
    close(fd);
    quicc_ctx_free(ctx);
    return res;
}
