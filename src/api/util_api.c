/*
 * util_api.c: what the library says about itself (quicc_version) and the
 * development certificates it makes for servers (quicc_generate_self_signed_cert).
 */
#include "api/api_internal.h"

#include <arpa/inet.h>
#include <stdio.h>

#include <time.h>

static char version_text[96];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void version_text_make(void) {
    snprintf(version_text, sizeof(version_text), "quicc %s (GnuTLS %s)", QUICC_VERSION_STRING,
             qc_tls_library_version());
}

const char *quicc_version(int what) {
    switch (what) {
    case QUICC_VERSION_LIBRARY:
        return QUICC_VERSION_STRING;
    case QUICC_VERSION_GNUTLS:
        return qc_tls_library_version();
    case QUICC_VERSION_TEXT:
        pthread_once(&version_once, version_text_make);
        return version_text;
    default:
        return NULL;
    }
}

unsigned long quicc_version_number(void) {
    return QUICC_VERSION_NUMBER;
}

/* Is name an IPv4 or IPv6 address in text? */
static bool is_ip_literal(const char *name) {
    unsigned char a[16];
    return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

static bool dns_name_ok(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 253) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || (ch == '*' && i == 0);
        if (!ok) return false;
    }
    return true;
}

int quicc_generate_self_signed_cert(const char *cert_path, const char *key_path,
                                    const char *const *names, size_t nnames, unsigned valid_days) {
    if (!cert_path || !key_path || !names || nnames == 0 || nnames > 64 || valid_days == 0 ||
        valid_days > 36500) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                        "a certificate needs two paths, 1 to 64 names and 1 to 36500 days");
        return 0;
    }
    const char **dns = qc_calloc(nnames, sizeof(*dns));
    const char **ips = qc_calloc(nnames, sizeof(*ips));
    size_t ndns = 0, nip = 0;
    int ok = 0;
    if (!dns || !ips) {
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nnames; i++) {
        if (!names[i]) {
            qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "name %zu is NULL", i);
            goto done;
        }
        if (is_ip_literal(names[i])) {
            ips[nip++] = names[i];
        } else if (dns_name_ok(names[i])) {
            dns[ndns++] = names[i];
        } else {
            qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT,
                            "\"%.80s\" is neither a DNS name nor an IP address", names[i]);
            goto done;
        }
    }
    int64_t now = (int64_t)time(NULL);
    char err[256] = "";
    if (qc_tls_generate_selfsigned(cert_path, key_path, dns, ndns, ips, nip, now - 3600,
                                   now + (int64_t)valid_days * 86400, err, sizeof(err)) != 0) {
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "%s", err);
        goto done;
    }
    ok = 1;
done:
    qc_free(dns);
    qc_free(ips);
    return ok;
}
