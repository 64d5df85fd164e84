/*
 * quic-server-non-block: a port of OpenSSL's demos/guide/quic-server-non-block.c
 * to quicc. The same echo service as quic-server-block, with the listener and
 * connections in nonblocking mode: every call that cannot complete reports
 * WANT_READ or WANT_WRITE, and the program waits on the socket for the event
 * timeout before retrying. It reads the client's stream to its end (at most
 * 8 KiB), then echoes it back with CONCLUDE.
 *
 * usage: quic-server-non-block PORT CERT KEY
 */
#include <quicc.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const unsigned char alpn_ossltest[] = {
    10, 'h', 'q', '-', 'i', 'n', 't', 'e', 'r', 'o', 'p', 8, 'h', 't', 't', 'p', '/', '1', '.', '0',
};

static quicc_ctx *create_ctx(const char *cert_path, const char *key_path) {
    quicc_ctx *ctx = quicc_ctx_new(QUICC_SERVER);
    if (ctx == NULL || quicc_ctx_use_certificate_chain_file(ctx, cert_path) <= 0 ||
        quicc_ctx_use_PrivateKey_file(ctx, key_path) <= 0 ||
        quicc_ctx_set_alpn_protos(ctx, alpn_ossltest, sizeof(alpn_ossltest)) != 0) {
        quicc_err_print(stderr);
        quicc_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

static int create_socket(uint16_t port) {
    struct sockaddr_in sa = {0};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return -1;
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Waits until the object can make progress: for socket readability or
 * writability as quicc desires, at most until the event timeout, then lets
 * quicc process the events.
 */
static void wait_for_activity(quicc *s) {
    struct pollfd pfd = {.fd = quicc_get_fd(s), .events = 0};
    struct timeval tv;
    int isinfinite = 1;
    if (quicc_net_read_desired(s)) pfd.events |= POLLIN;
    if (quicc_net_write_desired(s)) pfd.events |= POLLOUT;
    if (!quicc_get_event_timeout(s, &tv, &isinfinite)) return;
    int ms = isinfinite ? -1 : (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
    poll(&pfd, 1, ms);
    quicc_handle_events(s);
}

/* Returns 1 to retry after waiting, 0 on failure. */
static int handle_io_failure(quicc *s, int res) {
    switch (quicc_get_error(s, res)) {
    case QUICC_ERROR_WANT_READ:
    case QUICC_ERROR_WANT_WRITE:
        wait_for_activity(s);
        return 1;
    case QUICC_ERROR_ZERO_RETURN:
        return 0;
    default:
        quicc_err_print(stderr);
        return 0;
    }
}

static int run_quic_server(quicc_ctx *ctx, int fd) {
    int ok = 0;
    quicc *listener = quicc_new_listener(ctx, 0);
    if (listener == NULL || !quicc_set_fd(listener, fd) || !quicc_listen(listener)) goto err;
    /* Everything created from the listener inherits nonblocking mode. */
    quicc_set_blocking_mode(listener, 0);
    for (;;) {
        unsigned char buf[8192];
        size_t nread = 0, total = 0, nwritten;
        quicc *conn;
        while ((conn = quicc_accept_connection(listener, 0)) == NULL)
            wait_for_activity(listener);
        /* Read the client's stream to its end. */
        for (;;) {
            int ret = quicc_read_ex(conn, buf + total, sizeof(buf) - total, &nread);
            if (ret > 0) {
                total += nread;
                if (total == sizeof(buf)) break;
                continue;
            }
            if (!handle_io_failure(conn, ret)) break;
        }
        /* Echo it back, concluding the stream with the last write. */
        size_t off = 0;
        for (;;) {
            int ret =
                quicc_write_ex2(conn, buf + off, total - off, QUICC_WRITE_FLAG_CONCLUDE, &nwritten);
            if (ret > 0) break;
            if (!handle_io_failure(conn, ret)) break;
        }
        printf("echoed %zu bytes\n", total);
        fflush(stdout);
        /* A nonblocking shutdown reports 0 until it is done. */
        int ret;
        while ((ret = quicc_shutdown(conn)) != 1) {
            if (ret < 0 && !handle_io_failure(conn, ret)) break;
            wait_for_activity(conn);
        }
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
    if (fd < 0) {
        fprintf(stderr, "cannot bind to port %lu\n", port);
        return EXIT_FAILURE;
    }
    int res = run_quic_server(ctx, fd) ? EXIT_SUCCESS : EXIT_FAILURE;
    close(fd);
    quicc_ctx_free(ctx);
    return res;
}
