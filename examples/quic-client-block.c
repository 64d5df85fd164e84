/*
 * quic-client-block: a port of OpenSSL's demos/guide/quic-client-block.c to
 * quicc: a blocking QUIC client that sends an HTTP/1.0 request on the default
 * stream in three writes (the last concluding the stream) and prints the
 * response. Trust comes from the default verify paths (SSL_CERT_FILE).
 *
 * usage: quic-client-block [-6] HOST PORT
 */
#include <quicc.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char *argv[]) {
    int res = EXIT_FAILURE, family = AF_INET, argnext = 1;
    quicc_ctx *ctx = NULL;
    quicc *ssl = NULL;
    const char *request_start = "GET / HTTP/1.0\r\nConnection: close\r\nHost: ";
    const char *request_end = "\r\n\r\n";
    size_t written, readbytes;
    char buf[160];
    static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '0'};

    if (argc > 1 && strcmp(argv[1], "-6") == 0) {
        family = AF_INET6;
        argnext++;
    }
    if (argc - argnext != 2) {
        printf("Usage: quic-client-block [-6] hostname port\n");
        goto end;
    }
    const char *hostname = argv[argnext], *port = argv[argnext + 1];

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
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_DGRAM}, *ai;
    if (getaddrinfo(hostname, port, &hints, &ai) != 0) {
        printf("Failed to resolve %s\n", hostname);
        goto end;
    }
    int ok = quicc_set1_initial_peer_addr(ssl, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!ok || !quicc_set_tlsext_host_name(ssl, hostname) || !quicc_set1_host(ssl, hostname)) {
        printf("Failed to set the peer address or host name\n");
        goto end;
    }
    if (quicc_set_alpn_protos(ssl, alpn, sizeof(alpn)) != 0) {
        printf("Failed to set the ALPN for the connection\n");
        goto end;
    }
    if (quicc_connect(ssl) < 1) {
        printf("Failed to connect to the server\n");
        if (quicc_get_verify_result(ssl) != QUICC_VERIFY_OK)
            printf("Verify error: %s\n", quicc_verify_result_string(quicc_get_verify_result(ssl)));
        goto end;
    }
    if (!quicc_write_ex(ssl, request_start, strlen(request_start), &written) ||
        !quicc_write_ex(ssl, hostname, strlen(hostname), &written) ||
        !quicc_write_ex2(ssl, request_end, strlen(request_end), QUICC_WRITE_FLAG_CONCLUDE,
                         &written)) {
        printf("Failed to write HTTP request\n");
        goto end;
    }
    while (quicc_read_ex(ssl, buf, sizeof(buf), &readbytes))
        fwrite(buf, 1, readbytes, stdout);
    printf("\n");
    /* The stream must have ended normally (ZERO_RETURN), not been reset or failed. */
    switch (quicc_get_error(ssl, 0)) {
    case QUICC_ERROR_ZERO_RETURN:
        break;
    case QUICC_ERROR_SSL:
        switch (quicc_get_stream_read_state(ssl)) {
        case QUICC_STREAM_STATE_RESET_REMOTE:
            printf("Stream reset occurred\n");
            break;
        case QUICC_STREAM_STATE_CONN_CLOSED:
            printf("Connection closed\n");
            goto end;
        default:
            printf("Unknown stream failure\n");
            goto end;
        }
        break;
    default:
        printf("Failed reading remaining data\n");
        goto end;
    }
    if (quicc_shutdown(ssl) < 1) {
        printf("Error shutting down\n");
        goto end;
    }
    res = EXIT_SUCCESS;
end:
    if (res == EXIT_FAILURE) quicc_err_print(stderr);
    quicc_free(ssl);
    quicc_ctx_free(ctx);
    return res;
}
