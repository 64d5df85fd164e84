/*
 * consumer.c: a program built against an installed libquicc, as a user's would be (make
 * test builds it with pkg-config and with CMake, against the shared and the static library).
 *
 * It defines functions named like two of the library's internal ones. With only quicc_*
 * exported (shared) and no internal name left global (static), this links, and the library
 * never calls them. It then makes a development certificate, loads it into a server context,
 * and prints the versions.
 *
 * Usage: consumer DIR   (writes DIR/cert.pem and DIR/key.pem)
 */
#include <quicc.h>
#include <quicc_h3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int calls;

/* Named like the library's allocator and a core function: must never be called by it. */
void *qc_calloc_at(size_t n, size_t size, const char *file, int line);
void *qc_calloc_at(size_t n, size_t size, const char *file, int line) {
    (void)file;
    (void)line;
    calls++;
    return calloc(n, size);
}
int qc_frame_ack_eliciting(int type);
int qc_frame_ack_eliciting(int type) {
    calls++;
    return type;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    if (quicc_version_number() != QUICC_VERSION_NUMBER ||
        strcmp(quicc_version(QUICC_VERSION_LIBRARY), QUICC_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: header %s, library %s\n", QUICC_VERSION_STRING,
                quicc_version(QUICC_VERSION_LIBRARY));
        return 1;
    }
    char cert[4096], key[4096];
    snprintf(cert, sizeof(cert), "%s/cert.pem", argv[1]);
    snprintf(key, sizeof(key), "%s/key.pem", argv[1]);
    const char *names[] = {"localhost", "127.0.0.1"};
    if (!quicc_generate_self_signed_cert(cert, key, names, 2, 7)) {
        quicc_err_print(stderr);
        return 1;
    }
    quicc_ctx *ctx = quicc_ctx_new(QUICC_SERVER);
    if (!ctx || !quicc_ctx_use_certificate_chain_file(ctx, cert) ||
        !quicc_ctx_use_PrivateKey_file(ctx, key)) {
        quicc_err_print(stderr);
        return 1;
    }
    quicc_ctx_free(ctx);
    if (calls != 0) {
        fprintf(stderr, "consumer: the library called the program's qc_* functions %d times\n",
                calls);
        return 1;
    }
    printf("%s nghttp3 %s\n", quicc_version(QUICC_VERSION_TEXT), quicc_h3_version());
    return 0;
}
