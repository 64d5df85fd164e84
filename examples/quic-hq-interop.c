/*
 * quic-hq-interop: a port of OpenSSL's demos/guide/quic-hq-interop.c to
 * quicc: the QUIC interop runner's HTTP/0.9 client ("hq-interop" ALPN).
 * REQFILE lists paths separated by white space; each is fetched on a
 * bidirectional stream of its own ("GET /path\r\n" and FIN), at most 99
 * streams at a time, with quicc_poll telling which streams have data. Each
 * response is saved as $DOWNLOADS/<name> (default /downloads, the runner's
 * layout).
 *
 * Environment: SSL_CERT_FILE / SSL_CERT_DIR (trust), SSLKEYLOGFILE (key
 * log), SSL_SESSION_FILE (a session to resume, read before connecting and
 * written after the transfers).
 *
 * usage: quic-hq-interop [-6] HOST PORT REQFILE
 */
#include <quicc.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_STREAMS_PER_BATCH 99

typedef struct request {
    char *path;
    quicc *stream;
    FILE *out;
    int done;
} request;

/* Reads the request file: paths separated by white space. */
static size_t read_requests(const char *file, request **out) {
    FILE *f = fopen(file, "r");
    if (f == NULL) return 0;
    size_t n = 0, cap = 0;
    char word[4096];
    request *reqs = NULL;
    while (fscanf(f, "%4095s", word) == 1) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            request *r = realloc(reqs, cap * sizeof(*r));
            if (r == NULL) break;
            reqs = r;
        }
        memset(&reqs[n], 0, sizeof(reqs[n]));
        reqs[n++].path = strdup(word);
    }
    fclose(f);
    *out = reqs;
    return n;
}

/* The file name a response is saved under: the last component of the path. */
static FILE *open_download(const char *path) {
    const char *dir = getenv("DOWNLOADS") ? getenv("DOWNLOADS") : "/downloads";
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (*name == '\0') name = "index.html";
    char full[4096];
    snprintf(full, sizeof(full), "%s/%s", dir, name);
    return fopen(full, "wb");
}

/* Opens the stream of one request and sends it, concluded. */
static int start_request(quicc *ssl, request *r) {
    char line[4200];
    size_t written;
    int n = snprintf(line, sizeof(line), "GET %s%s\r\n", r->path[0] == '/' ? "" : "/", r->path);
    r->stream = quicc_new_stream(ssl, 0);
    if (r->stream == NULL) return 0;
    if (!quicc_write_ex2(r->stream, line, (size_t)n, QUICC_WRITE_FLAG_CONCLUDE, &written)) return 0;
    r->out = open_download(r->path);
    if (r->out == NULL) {
        fprintf(stderr, "cannot save %s\n", r->path);
        return 0;
    }
    /* Reads must not block: quicc_poll says when a stream has something. */
    quicc_set_blocking_mode(r->stream, 0);
    return 1;
}

/* Reads what a stream has; returns 1 while it goes on, 0 at its end, -1 on failure. */
static int drain(request *r) {
    char buf[16384];
    size_t n;
    while (quicc_read_ex(r->stream, buf, sizeof(buf), &n))
        fwrite(buf, 1, n, r->out);
    switch (quicc_get_error(r->stream, 0)) {
    case QUICC_ERROR_WANT_READ:
        return 1;
    case QUICC_ERROR_ZERO_RETURN:
        return 0;
    default:
        fprintf(stderr, "%s: the stream failed (read state %d)\n", r->path,
                quicc_get_stream_read_state(r->stream));
        return -1;
    }
}

/* Fetches requests [first, last) at once, polling their streams for data. */
static int run_batch(quicc *ssl, request *reqs, size_t first, size_t last) {
    quicc_poll_item items[MAX_STREAMS_PER_BATCH];
    for (size_t i = first; i < last; i++)
        if (!start_request(ssl, &reqs[i])) return 0;
    size_t left = last - first;
    while (left > 0) {
        size_t n = 0, result_count;
        for (size_t i = first; i < last; i++) {
            if (reqs[i].done) continue;
            items[n].desc = reqs[i].stream;
            /* data, a reset, or the end of the connection (reads then fail at once) */
            items[n].events = QUICC_POLL_EVENT_R | QUICC_POLL_EVENT_ER | QUICC_POLL_EVENT_EC;
            items[n].revents = 0;
            n++;
        }
        struct timeval timeout = {.tv_sec = 10, .tv_usec = 0};
        if (!quicc_poll(items, n, sizeof(items[0]), &timeout, 0, &result_count)) return 0;
        if (result_count == 0) {
            fprintf(stderr, "no progress for 10 seconds\n");
            return 0;
        }
        for (size_t i = first; i < last; i++) {
            request *r = &reqs[i];
            if (r->done) continue;
            int rv = drain(r);
            if (rv < 0) return 0;
            if (rv == 0) {
                r->done = 1;
                left--;
                fclose(r->out);
                r->out = NULL;
                quicc_free(r->stream);
                r->stream = NULL;
            }
        }
    }
    return 1;
}

int main(int argc, char *argv[]) {
    int res = EXIT_FAILURE, family = AF_INET, argnext = 1;
    quicc_ctx *ctx = NULL;
    quicc *ssl = NULL;
    request *reqs = NULL;
    size_t nreqs = 0;
    static const unsigned char alpn[] = {10, 'h', 'q', '-', 'i', 'n', 't', 'e', 'r', 'o', 'p'};

    if (argc > 1 && strcmp(argv[1], "-6") == 0) {
        family = AF_INET6;
        argnext++;
    }
    if (argc - argnext != 3) {
        printf("Usage: quic-hq-interop [-6] hostname port reqfile\n");
        goto end;
    }
    const char *hostname = argv[argnext], *port = argv[argnext + 1];
    nreqs = read_requests(argv[argnext + 2], &reqs);
    if (nreqs == 0) {
        printf("No requests in %s\n", argv[argnext + 2]);
        goto end;
    }
    /* The context: verify the server with the default trust (SSL_CERT_FILE...). */
    ctx = quicc_ctx_new(QUICC_CLIENT);
    if (ctx == NULL || !quicc_ctx_set_default_verify_paths(ctx)) goto end;
    quicc_ctx_set_verify(ctx, QUICC_VERIFY_PEER);
    if (getenv("SSLKEYLOGFILE") && !quicc_ctx_set_keylog_file(ctx, getenv("SSLKEYLOGFILE")))
        goto end;
    ssl = quicc_new(ctx);
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_DGRAM}, *ai;
    if (ssl == NULL || getaddrinfo(hostname, port, &hints, &ai) != 0) goto end;
    int ok = quicc_set1_initial_peer_addr(ssl, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!ok || !quicc_set_tlsext_host_name(ssl, hostname) || !quicc_set1_host(ssl, hostname) ||
        quicc_set_alpn_protos(ssl, alpn, sizeof(alpn)) != 0)
        goto end;
    /* Every request has a stream of its own: no default stream. */
    if (!quicc_set_default_stream_mode(ssl, QUICC_DEFAULT_STREAM_MODE_NONE)) goto end;
    /* Resume an earlier session if there is one. */
    const char *session_file = getenv("SSL_SESSION_FILE");
    FILE *sf = session_file ? fopen(session_file, "rb") : NULL;
    if (sf != NULL) {
        unsigned char session[16384];
        size_t len = fread(session, 1, sizeof(session), sf);
        fclose(sf);
        if (len > 0 && !quicc_set_session(ssl, session, len)) goto end;
    }
    if (quicc_connect(ssl) < 1) {
        printf("Failed to connect to the server\n");
        if (quicc_get_verify_result(ssl) != QUICC_VERIFY_OK)
            printf("Verify error: %s\n", quicc_verify_result_string(quicc_get_verify_result(ssl)));
        goto end;
    }
    if (quicc_session_reused(ssl)) printf("Session resumed\n");
    for (size_t first = 0; first < nreqs; first += MAX_STREAMS_PER_BATCH) {
        size_t last = first + MAX_STREAMS_PER_BATCH < nreqs ? first + MAX_STREAMS_PER_BATCH : nreqs;
        if (!run_batch(ssl, reqs, first, last)) goto end;
    }
    printf("Downloaded %zu files\n", nreqs);
    /* Keep the session for the next run. */
    if (session_file != NULL) {
        unsigned char session[16384];
        size_t len = sizeof(session);
        if (quicc_get_session(ssl, session, &len) && (sf = fopen(session_file, "wb")) != NULL) {
            fwrite(session, 1, len, sf);
            fclose(sf);
        }
    }
    if (quicc_shutdown(ssl) < 1) {
        printf("Error shutting down\n");
        goto end;
    }
    res = EXIT_SUCCESS;
end:
    if (res == EXIT_FAILURE) quicc_err_print(stderr);
    for (size_t i = 0; i < nreqs; i++) {
        quicc_free(reqs[i].stream);
        if (reqs[i].out) fclose(reqs[i].out);
        free(reqs[i].path);
    }
    free(reqs);
    quicc_free(ssl);
    quicc_ctx_free(ctx);
    return res;
}
