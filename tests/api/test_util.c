/*
 * quicc_version and quicc_generate_self_signed_cert: the version strings and number agree
 * with the header; a development certificate holds its names (DNS and IP subject
 * alternative names, the first DNS name as CN), is a serverAuth end-entity certificate valid
 * for the days asked, loads into a server context with its key (mode 0600); every refused
 * argument and an unwritable path fail with their exact reasons, and so does a key log
 * file that cannot be opened.
 */
#include "quicc.h"
#include "quicc_h3.h"
#include "unit/test.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char cert[128], key[128];

static void test_version(void) {
    CHECK_STR(quicc_version(QUICC_VERSION_LIBRARY), QUICC_VERSION_STRING);
    CHECK_U64(quicc_version_number(), QUICC_VERSION_NUMBER);
    CHECK_U64(QUICC_VERSION_NUMBER, ((unsigned long)QUICC_VERSION_MAJOR << 24) |
                                        ((unsigned long)QUICC_VERSION_MINOR << 16) |
                                        ((unsigned long)QUICC_VERSION_PATCH << 8));
    char expect[32];
    snprintf(expect, sizeof(expect), "%d.%d.%d", QUICC_VERSION_MAJOR, QUICC_VERSION_MINOR,
             QUICC_VERSION_PATCH);
    CHECK_STR(QUICC_VERSION_STRING, expect);
    CHECK_STR(quicc_version(QUICC_VERSION_GNUTLS), gnutls_check_version(NULL));
    char text[128];
    snprintf(text, sizeof(text), "quicc %s (GnuTLS %s)", QUICC_VERSION_STRING,
             gnutls_check_version(NULL));
    CHECK_STR(quicc_version(QUICC_VERSION_TEXT), text);
    CHECK(quicc_version(99) == NULL);
    CHECK(quicc_version(-1) == NULL);
    const char *h3 = quicc_h3_version();
    CHECK(h3 != NULL && strchr(h3, '.') != NULL);
}

static gnutls_x509_crt_t load_cert(const char *path) {
    gnutls_datum_t d = {NULL, 0};
    gnutls_x509_crt_t crt = NULL;
    if (gnutls_load_file(path, &d) < 0) return NULL;
    if (gnutls_x509_crt_init(&crt) < 0 ||
        gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
        gnutls_x509_crt_deinit(crt);
        crt = NULL;
    }
    gnutls_free(d.data);
    return crt;
}

static void test_cert(void) {
    const char *names[] = {"127.0.0.1", "localhost", "::1", "*.example.test"};
    time_t before = time(NULL);
    CHECK_EQ(quicc_generate_self_signed_cert(cert, key, names, 4, 10), 1);
    gnutls_x509_crt_t crt = load_cert(cert);
    CHECK(crt != NULL);
    if (!crt) return;
    char buf[256];
    size_t len = sizeof(buf);
    CHECK_EQ(gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &len), 0);
    CHECK_STR(buf, "localhost");
    /* The names in order: IP 127.0.0.1 and ::1 after the DNS names (each kind in order). */
    const char *dns_seen[2] = {NULL, NULL};
    int ndns = 0, nip = 0;
    bool v4 = false, v6 = false;
    char dns_copy[2][64];
    for (unsigned i = 0;; i++) {
        len = sizeof(buf);
        int type = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &len, NULL);
        if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) break;
        CHECK(type >= 0);
        if (type < 0) break;
        if (type == GNUTLS_SAN_DNSNAME && ndns < 2) {
            snprintf(dns_copy[ndns], sizeof(dns_copy[ndns]), "%.*s", (int)len, buf);
            dns_seen[ndns] = dns_copy[ndns];
            ndns++;
        } else if (type == GNUTLS_SAN_IPADDRESS) {
            unsigned char a[16];
            if (len == 4 && inet_pton(AF_INET, "127.0.0.1", a) == 1 && !memcmp(a, buf, 4))
                v4 = true;
            if (len == 16 && inet_pton(AF_INET6, "::1", a) == 1 && !memcmp(a, buf, 16)) v6 = true;
            nip++;
        }
    }
    CHECK_EQ(ndns, 2);
    CHECK_EQ(nip, 2);
    CHECK(v4 && v6);
    if (ndns == 2) {
        CHECK_STR(dns_seen[0], "localhost");
        CHECK_STR(dns_seen[1], "*.example.test");
    }
    unsigned ca = 1, critical = 0;
    CHECK_EQ(gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, NULL), 0);
    CHECK_EQ(ca, 0);
    len = sizeof(buf);
    CHECK_EQ(gnutls_x509_crt_get_key_purpose_oid(crt, 0, buf, &len, NULL), 0);
    CHECK_STR(buf, GNUTLS_KP_TLS_WWW_SERVER);
    time_t nb = gnutls_x509_crt_get_activation_time(crt);
    time_t na = gnutls_x509_crt_get_expiration_time(crt);
    CHECK(nb <= before - 3600 + 5 && nb >= before - 3600 - 5);
    CHECK(na - nb >= 10 * 86400 + 3600 - 10 && na - nb <= 10 * 86400 + 3600 + 10);
    gnutls_x509_crt_deinit(crt);
    struct stat st;
    CHECK_EQ(stat(key, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    quicc_ctx *ctx = quicc_ctx_new(QUICC_SERVER);
    CHECK(ctx != NULL);
    CHECK_EQ(quicc_ctx_use_certificate_chain_file(ctx, cert), 1);
    CHECK_EQ(quicc_ctx_use_PrivateKey_file(ctx, key), 1);
    quicc_ctx_free(ctx);
}

/* One refused call: returns 0 with exactly reason on the queue, detail containing want. */
static void refused(int got, unsigned long reason, const char *want) {
    CHECK_EQ(got, 0);
    unsigned long e = quicc_err_get();
    CHECK_U64(e, reason);
    const char *d = quicc_err_detail();
    CHECK(d != NULL && strstr(d, want) != NULL);
    if (!d || !strstr(d, want)) fprintf(stderr, "  detail: %s (wanted %s)\n", d ? d : "-", want);
    CHECK_U64(quicc_err_get(), 0);
}

static void test_cert_refused(void) {
    const char *one[] = {"localhost"};
    const char *bad[] = {"localhost", "not a name"};
    const char *null_name[] = {"localhost", NULL};
    quicc_err_clear();
    refused(quicc_generate_self_signed_cert(NULL, key, one, 1, 1), QUICC_R_PASSED_INVALID_ARGUMENT,
            "two paths");
    refused(quicc_generate_self_signed_cert(cert, NULL, one, 1, 1), QUICC_R_PASSED_INVALID_ARGUMENT,
            "two paths");
    refused(quicc_generate_self_signed_cert(cert, key, NULL, 1, 1), QUICC_R_PASSED_INVALID_ARGUMENT,
            "names");
    refused(quicc_generate_self_signed_cert(cert, key, one, 0, 1), QUICC_R_PASSED_INVALID_ARGUMENT,
            "names");
    refused(quicc_generate_self_signed_cert(cert, key, one, 1, 0), QUICC_R_PASSED_INVALID_ARGUMENT,
            "days");
    refused(quicc_generate_self_signed_cert(cert, key, one, 1, 36501),
            QUICC_R_PASSED_INVALID_ARGUMENT, "days");
    refused(quicc_generate_self_signed_cert(cert, key, bad, 2, 1), QUICC_R_PASSED_INVALID_ARGUMENT,
            "\"not a name\" is neither");
    refused(quicc_generate_self_signed_cert(cert, key, null_name, 2, 1),
            QUICC_R_PASSED_INVALID_ARGUMENT, "name 1 is NULL");
    char nodir[160];
    snprintf(nodir, sizeof(nodir), "%s/missing/key.pem", dir);
    refused(quicc_generate_self_signed_cert(cert, nodir, one, 1, 1), QUICC_R_INTERNAL_ERROR, nodir);
}

/* A key log that cannot be opened fails at the call, with the path and the reason. */
static void test_keylog_refused(void) {
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    CHECK(ctx != NULL);
    quicc_err_clear();
    refused(quicc_ctx_set_keylog_file(ctx, "/nonexistent-dir/keys.log"),
            QUICC_R_PASSED_INVALID_ARGUMENT, "cannot open key log /nonexistent-dir/keys.log");
    char path[160];
    snprintf(path, sizeof(path), "%s/keys.log", dir);
    CHECK_EQ(quicc_ctx_set_keylog_file(ctx, path), 1);
    struct stat st;
    CHECK_EQ(stat(path, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    CHECK_EQ(quicc_ctx_set_keylog_file(ctx, NULL), 1);
    unlink(path);
    quicc_ctx_free(ctx);
}

int main(void) {
    snprintf(dir, sizeof(dir), "/tmp/quicc-test-util-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    TEST_RUN(test_version);
    TEST_RUN(test_cert);
    TEST_RUN(test_cert_refused);
    TEST_RUN(test_keylog_refused);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    return test_summary();
}
