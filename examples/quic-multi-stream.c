/*
 * quic-multi-stream: a port of OpenSSL's demos/guide/quic-multi-stream.c to
 * quicc, after ossl-guide-quic-multi-stream(7): default stream mode NONE, a
 * bidirectional stream with one HTTP/1.0 request and a unidirectional stream
 * with another (neither concluded); the first response is read from the
 * bidirectional stream, the second from the stream the server opens for it.
 *
 * usage: quic-multi-stream [-6] HOST PORT
 */
#include <quicc.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int write_a_request(quicc *stream, const char *request_start, const char *hostname) {
    const char *request_end = "\r\n\r\n";
    size_t written;
    if (!quicc_write_ex(stream, request_start, strlen(request_start), &written)) return 0;
    if (!quicc_write_ex(stream, hostname, strlen(hostname), &written)) return 0;
    if (!quicc_write_ex(stream, request_end, strlen(request_end), &written)) return 0;
    return 1;
}

/* Prints everything the stream carries until it ends. */
static int read_a_response(quicc *stream) {
    char buf[160];
    size_t readbytes;
    while (quicc_read_ex(stream, buf, sizeof(buf), &readbytes))
        fwrite(buf, 1, readbytes, stdout);
    printf("\n");
    if (quicc_get_error(stream, 0) != QUICC_ERROR_ZERO_RETURN) {
        printf("Failed reading remaining data\n");
        return 0;
    }
    return 1;
}

int main(int argc, char *argv[]) {
    int res = EXIT_FAILURE, family = AF_INET, argnext = 1;
    quicc_ctx *ctx = NULL;
    quicc *ssl = NULL, *stream1 = NULL, *stream2 = NULL, *stream3 = NULL;
    const char *request1_start = "GET /request1.html HTTP/1.0\r\nConnection: close\r\nHost: ";
    const char *request2_start = "GET /request2.html HTTP/1.0\r\nConnection: close\r\nHost: ";
    static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '0'};

    if (argc > 1 && strcmp(argv[1], "-6") == 0) {
        family = AF_INET6;
        argnext++;
    }
    if (argc - argnext != 2) {
        printf("Usage: quic-multi-stream [-6] hostname port\n");
        goto end;
    }
    const char *hostname = argv[argnext], *port = argv[argnext + 1];
    ctx = quicc_ctx_new(QUICC_CLIENT);
    if (ctx == NULL || !quicc_ctx_set_default_verify_paths(ctx)) goto end;
    quicc_ctx_set_verify(ctx, QUICC_VERIFY_PEER);
    ssl = quicc_new(ctx);
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_DGRAM}, *ai;
    if (ssl == NULL || getaddrinfo(hostname, port, &hints, &ai) != 0) goto end;
    int ok = quicc_set1_initial_peer_addr(ssl, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!ok || !quicc_set_tlsext_host_name(ssl, hostname) || !quicc_set1_host(ssl, hostname) ||
        quicc_set_alpn_protos(ssl, alpn, sizeof(alpn)) != 0)
        goto end;
    /* We use multiple streams: no default stream. */
    if (!quicc_set_default_stream_mode(ssl, QUICC_DEFAULT_STREAM_MODE_NONE)) {
        printf("Failed to disable the default stream mode\n");
        goto end;
    }
    if (quicc_connect(ssl) < 1) {
        printf("Failed to connect to the server\n");
        goto end;
    }
    /* A bidirectional and a unidirectional stream. */
    stream1 = quicc_new_stream(ssl, 0);
    stream2 = quicc_new_stream(ssl, QUICC_STREAM_FLAG_UNI);
    if (stream1 == NULL || stream2 == NULL) {
        printf("Failed to create streams\n");
        goto end;
    }
    if (!write_a_request(stream1, request1_start, hostname) ||
        !write_a_request(stream2, request2_start, hostname)) {
        printf("Failed to write HTTP request\n");
        goto end;
    }
    /* The response to the first request arrives on stream1. */
    if (!read_a_response(stream1)) goto end;
    /* The server answers the uni request on a stream of its own. */
    stream3 = quicc_accept_stream(ssl, 0);
    if (stream3 == NULL) {
        printf("Failed to accept a new stream\n");
        goto end;
    }
    if (!read_a_response(stream3)) goto end;
    if (quicc_shutdown(ssl) < 1) {
        printf("Error shutting down\n");
        goto end;
    }
    res = EXIT_SUCCESS;
end:
    if (res == EXIT_FAILURE) quicc_err_print(stderr);
    quicc_free(stream3);
    quicc_free(stream2);
    quicc_free(stream1);
    quicc_free(ssl);
    quicc_ctx_free(ctx);
    return res;
}
