/*
 * quic-client-non-block: a port of OpenSSL's demos/guide/quic-client-non-block.c
 * to quicc, following ossl-guide-quic-client-non-block(7) step for step: a
 * nonblocking QUIC client that sends an HTTP/1.0 request on the default stream
 * and prints the response. Trust comes from the default verify paths, so
 * SSL_CERT_FILE names the CA to trust.
 *
 * usage: quic-client-non-block [-6] HOST PORT
 */
#include <quicc.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>

/* Resolves host:port and returns the first address of the family wanted. */
static int lookup(const char *host, const char *port, int family, struct sockaddr_storage *ss,
                  socklen_t *len) {
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_DGRAM}, *res;
    if (getaddrinfo(host, port, &hints, &res) != 0) return 0;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 1;
}

/* Waits until the socket is readable or writable as quicc desires, or the event timeout. */
static void wait_for_activity(quicc *ssl) {
    fd_set wfds, rfds;
    int width, sock, isinfinite;
    struct timeval tv, *tvp = NULL;
    sock = quicc_get_fd(ssl);
    FD_ZERO(&wfds);
    FD_ZERO(&rfds);
    if (quicc_net_write_desired(ssl)) FD_SET(sock, &wfds);
    if (quicc_net_read_desired(ssl)) FD_SET(sock, &rfds);
    width = sock + 1;
    /* Find out when quicc would next like to be called regardless of socket activity. */
    if (quicc_get_event_timeout(ssl, &tv, &isinfinite) && !isinfinite) tvp = &tv;
    select(width, &rfds, &wfds, NULL, tvp);
}

/* Returns 1 to retry, 0 at the end of the stream, -1 on a fatal error (printed). */
static int handle_io_failure(quicc *ssl, int res) {
    switch (quicc_get_error(ssl, res)) {
    case QUICC_ERROR_WANT_READ:
    case QUICC_ERROR_WANT_WRITE:
        wait_for_activity(ssl);
        return 1;
    case QUICC_ERROR_ZERO_RETURN:
        return 0; /* EOF on this stream */
    case QUICC_ERROR_SYSCALL:
        return -1;
    case QUICC_ERROR_SSL:
        switch (quicc_get_stream_read_state(ssl)) {
        case QUICC_STREAM_STATE_RESET_REMOTE:
            printf("Stream reset occurred\n");
            return 0;
        case QUICC_STREAM_STATE_CONN_CLOSED:
            printf("Connection closed\n");
            return -1;
        default:
            break;
        }
        if (quicc_get_verify_result(ssl) != QUICC_VERIFY_OK)
            printf("Verify error: %s\n", quicc_verify_result_string(quicc_get_verify_result(ssl)));
        return -1;
    default:
        return -1;
    }
}

int main(int argc, char *argv[]) {
    int res = EXIT_FAILURE, ret, family = AF_INET, argnext = 1;
    quicc_ctx *ctx = NULL;
    quicc *ssl = NULL;
    const char *request_start = "GET / HTTP/1.0\r\nConnection: close\r\nHost: ";
    const char *request_end = "\r\n\r\n";
    size_t written, readbytes = 0;
    char buf[160];
    int eof = 0;
    static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '0'};
    struct sockaddr_storage peer;
    socklen_t peerlen;

    if (argc > 1 && strcmp(argv[1], "-6") == 0) {
        family = AF_INET6;
        argnext++;
    }
    if (argc - argnext != 2) {
        printf("Usage: quic-client-non-block [-6] hostname port\n");
        goto end;
    }
    const char *hostname = argv[argnext], *port = argv[argnext + 1];

    /* Create a context for a client and trust the default verify paths (SSL_CERT_FILE). */
    ctx = quicc_ctx_new(QUICC_CLIENT);
    if (ctx == NULL) {
        printf("Failed to create the quicc_ctx\n");
        goto end;
    }
    quicc_ctx_set_verify(ctx, QUICC_VERIFY_PEER);
    if (!quicc_ctx_set_default_verify_paths(ctx)) {
        printf("Failed to set the default trusted certificate store\n");
        goto end;
    }
    ssl = quicc_new(ctx);
    if (ssl == NULL) {
        printf("Failed to create the quicc object\n");
        goto end;
    }
    /* quicc creates the UDP socket for the server's address. */
    if (!lookup(hostname, port, family, &peer, &peerlen) ||
        !quicc_set1_initial_peer_addr(ssl, (struct sockaddr *)&peer, peerlen)) {
        printf("Failed to resolve %s\n", hostname);
        goto end;
    }
    /* SNI, the name the certificate must match, and the mandatory ALPN. */
    if (!quicc_set_tlsext_host_name(ssl, hostname) || !quicc_set1_host(ssl, hostname)) {
        printf("Failed to set the host name\n");
        goto end;
    }
    if (quicc_set_alpn_protos(ssl, alpn, sizeof(alpn)) != 0) {
        printf("Failed to set the ALPN for the connection\n");
        goto end;
    }
    /* Nonblocking mode. */
    if (!quicc_set_blocking_mode(ssl, 0)) {
        printf("Failed to turn off blocking mode\n");
        goto end;
    }
    /* Connect, retrying while the handshake is in progress. */
    while ((ret = quicc_connect(ssl)) != 1) {
        if (handle_io_failure(ssl, ret) == 1) continue;
        printf("Failed to connect to server\n");
        goto end;
    }
    /* Write the request in three pieces; the last one concludes the stream. */
    while (!quicc_write_ex(ssl, request_start, strlen(request_start), &written)) {
        if (handle_io_failure(ssl, 0) == 1) continue;
        printf("Failed to write start of HTTP request\n");
        goto end;
    }
    while (!quicc_write_ex(ssl, hostname, strlen(hostname), &written)) {
        if (handle_io_failure(ssl, 0) == 1) continue;
        printf("Failed to write hostname in HTTP request\n");
        goto end;
    }
    while (!quicc_write_ex2(ssl, request_end, strlen(request_end), QUICC_WRITE_FLAG_CONCLUDE,
                            &written)) {
        if (handle_io_failure(ssl, 0) == 1) continue;
        printf("Failed to write end of HTTP request\n");
        goto end;
    }
    /* Read the response until the stream ends. */
    do {
        while (!eof && !quicc_read_ex(ssl, buf, sizeof(buf), &readbytes)) {
            switch (handle_io_failure(ssl, 0)) {
            case 1:
                continue;
            case 0:
                eof = 1;
                continue;
            default:
                printf("Failed reading remaining data\n");
                goto end;
            }
        }
        if (!eof) fwrite(buf, 1, readbytes, stdout);
    } while (!eof);
    printf("\n");
    /* Shut down the connection: repeat until it reports completion. */
    while ((ret = quicc_shutdown(ssl)) != 1) {
        if (ret < 0 && handle_io_failure(ssl, ret) == 1) continue;
        if (ret == 0)
            wait_for_activity(ssl);
        else
            break;
    }
    res = EXIT_SUCCESS;
end:
    if (res == EXIT_FAILURE) quicc_err_print(stderr);
    quicc_free(ssl);
    quicc_ctx_free(ctx);
    return res;
}
