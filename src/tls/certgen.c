/*
 * certgen.c: makes keys and X.509 certificates with GnuTLS for tests and
 * for quicc-server's "generate a self-signed certificate" mode. Keys are
 * ECDSA P-256, certificates X.509 v3 signed with SHA-256, both written as
 * PEM (the key file with mode 0600).
 */
#include "tls/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int cg_err(char *err, size_t err_len, int code, const char *fmt, ...) {
    if (err != NULL && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Writes data to path (created or truncated with mode). */
static int write_file(const char *path, const gnutls_datum_t *d, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < d->size) {
        ssize_t w = write(fd, d->data + off, d->size - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd);
}

typedef struct cg_issuer {
    gnutls_x509_crt_t crt;
    gnutls_privkey_t key;
} cg_issuer;

/* The first GnuTLS failure of a generation and the step it happened in. */
typedef struct cg_status {
    int rv;
    const char *what;
    int code; /* QC_ERR_* to return for it */
} cg_status;

/* Records rv (a GnuTLS return) for step what; true while no step has failed. */
static bool cg_ok(cg_status *st, int rv, const char *what) {
    if (rv < 0 && st->rv >= 0) {
        st->rv = rv;
        st->what = what;
    }
    return st->rv >= 0;
}

static bool cg_bad_input(cg_status *st, const char *what) {
    st->code = QC_ERR_INVAL;
    return cg_ok(st, GNUTLS_E_INVALID_REQUEST, what);
}

static bool cg_make_key(cg_status *st, gnutls_x509_privkey_t *xkey, gnutls_privkey_t *key,
                        bool ed25519) {
    gnutls_pk_algorithm_t pk = ed25519 ? GNUTLS_PK_EDDSA_ED25519 : GNUTLS_PK_ECDSA;
    unsigned bits =
        GNUTLS_CURVE_TO_BITS(ed25519 ? GNUTLS_ECC_CURVE_ED25519 : GNUTLS_ECC_CURVE_SECP256R1);
    return cg_ok(st, gnutls_x509_privkey_init(xkey), "key init") &&
           cg_ok(st, gnutls_x509_privkey_generate(*xkey, pk, bits, 0), "key generation") &&
           cg_ok(st, gnutls_privkey_init(key), "key init") &&
           cg_ok(st, gnutls_privkey_import_x509(*key, *xkey, 0), "key import");
}

/* Version, serial, validity, key and subject common name. */
static bool cg_set_identity(cg_status *st, gnutls_x509_crt_t crt, gnutls_x509_privkey_t xkey,
                            const char *cn, int64_t not_before, int64_t not_after) {
    uint8_t serial[16];
    if (!cg_ok(st, gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)), "serial")) return false;
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x01); /* positive, no leading zero */
    return cg_ok(st, gnutls_x509_crt_set_version(crt, 3), "version") &&
           cg_ok(st, gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), "serial") &&
           cg_ok(st, gnutls_x509_crt_set_activation_time(crt, (time_t)not_before),
                 "activation time") &&
           cg_ok(st, gnutls_x509_crt_set_expiration_time(crt, (time_t)not_after),
                 "expiration time") &&
           cg_ok(st, gnutls_x509_crt_set_key(crt, xkey), "public key") &&
           cg_ok(st,
                 gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                               (unsigned)strlen(cn)),
                 "subject");
}

static bool cg_set_names(cg_status *st, gnutls_x509_crt_t crt, const char *const *dns, size_t ndns,
                         const char *const *ips, size_t nip) {
    for (size_t i = 0; i < ndns; i++) {
        if (dns[i] == NULL || dns[i][0] == '\0') return cg_bad_input(st, "empty DNS name");
        if (!cg_ok(st,
                   gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, dns[i],
                                                        (unsigned)strlen(dns[i]),
                                                        GNUTLS_FSAN_APPEND),
                   "DNS subject alternative name"))
            return false;
    }
    for (size_t i = 0; i < nip; i++) {
        uint8_t addr[16];
        unsigned alen;
        if (ips[i] != NULL && inet_pton(AF_INET, ips[i], addr) == 1)
            alen = 4;
        else if (ips[i] != NULL && inet_pton(AF_INET6, ips[i], addr) == 1)
            alen = 16;
        else
            return cg_bad_input(st, "bad IP address literal");
        if (!cg_ok(st,
                   gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, addr, alen,
                                                        GNUTLS_FSAN_APPEND),
                   "IP subject alternative name"))
            return false;
    }
    return true;
}

/* Basic constraints, key usage, key identifiers, and the signature. */
static bool cg_set_usage_and_sign(cg_status *st, gnutls_x509_crt_t crt, gnutls_privkey_t key,
                                  bool is_ca, const cg_issuer *issuer, bool ed25519) {
    bool ok;
    if (is_ca)
        ok = cg_ok(st, gnutls_x509_crt_set_basic_constraints(crt, 1, -1), "basic constraints") &&
             cg_ok(st,
                   gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
                                                          GNUTLS_KEY_CRL_SIGN |
                                                          GNUTLS_KEY_DIGITAL_SIGNATURE),
                   "key usage");
    else
        ok = cg_ok(st, gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "basic constraints") &&
             cg_ok(st, gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE),
                   "key usage") &&
             cg_ok(st, gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
                   "extended key usage");
    uint8_t kid[64];
    size_t kid_len = sizeof(kid);
    ok = ok && cg_ok(st, gnutls_x509_crt_get_key_id(crt, 0, kid, &kid_len), "key id") &&
         cg_ok(st, gnutls_x509_crt_set_subject_key_id(crt, kid, kid_len), "subject key id");
    if (!ok) return false;
    if (issuer == NULL)
        return cg_ok(st,
                     gnutls_x509_crt_privkey_sign(
                         crt, crt, key, ed25519 ? GNUTLS_DIG_UNKNOWN : GNUTLS_DIG_SHA256, 0),
                     "signing");
    uint8_t akid[64];
    size_t akid_len = sizeof(akid);
    unsigned critical;
    return cg_ok(st, gnutls_x509_crt_get_subject_key_id(issuer->crt, akid, &akid_len, &critical),
                 "issuer key id") &&
           cg_ok(st, gnutls_x509_crt_set_authority_key_id(crt, akid, akid_len),
                 "authority key id") &&
           cg_ok(st,
                 gnutls_x509_crt_privkey_sign(crt, issuer->crt, issuer->key, GNUTLS_DIG_SHA256, 0),
                 "signing");
}

/* Exports the key and the certificate as PEM and writes them. */
static int cg_write(cg_status *st, gnutls_x509_privkey_t xkey, gnutls_x509_crt_t crt,
                    const char *cert_path, const char *key_path, char *err, size_t err_len) {
    gnutls_datum_t out = {NULL, 0};
    int code = 0;
    if (!cg_ok(st,
               gnutls_x509_privkey_export2_pkcs8(xkey, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                                 &out),
               "key export"))
        return st->code;
    if (write_file(key_path, &out, 0600) != 0)
        code = cg_err(err, err_len, QC_ERR_INTERNAL, "cannot write %s", key_path);
    gnutls_free(out.data);
    out.data = NULL;
    if (code != 0) return code;
    if (!cg_ok(st, gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out), "certificate export"))
        return st->code;
    if (write_file(cert_path, &out, 0644) != 0)
        code = cg_err(err, err_len, QC_ERR_INTERNAL, "cannot write %s", cert_path);
    gnutls_free(out.data);
    return code;
}

/*
 * Builds and writes one certificate. issuer NULL = self-signed. is_ca
 * selects CA:TRUE/keyCertSign instead of an end-entity serverAuth leaf.
 */
static int generate(const char *cert_path, const char *key_path, const char *cn,
                    const char *const *dns, size_t ndns, const char *const *ips, size_t nip,
                    int64_t not_before, int64_t not_after, bool is_ca, const cg_issuer *issuer,
                    bool ed25519, char *err, size_t err_len) {
    if (cert_path == NULL || key_path == NULL || (ndns > 0 && dns == NULL) ||
        (nip > 0 && ips == NULL) || not_after < not_before)
        return cg_err(err, err_len, QC_ERR_INVAL, "invalid argument");
    gnutls_x509_privkey_t xkey = NULL;
    gnutls_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    cg_status st = {0, "", QC_ERR_CRYPTO};
    int code = QC_ERR_CRYPTO;
    bool built = cg_make_key(&st, &xkey, &key, ed25519) &&
                 cg_ok(&st, gnutls_x509_crt_init(&crt), "certificate init") &&
                 cg_set_identity(&st, crt, xkey, cn, not_before, not_after) &&
                 cg_set_names(&st, crt, dns, ndns, ips, nip) &&
                 cg_set_usage_and_sign(&st, crt, key, is_ca, issuer, ed25519);
    if (built) code = cg_write(&st, xkey, crt, cert_path, key_path, err, err_len);
    if (st.rv < 0) code = cg_err(err, err_len, st.code, "%s: %s", st.what, gnutls_strerror(st.rv));
    if (crt) gnutls_x509_crt_deinit(crt);
    if (key) gnutls_privkey_deinit(key);
    if (xkey) gnutls_x509_privkey_deinit(xkey);
    return code;
}

int qc_tls_generate_selfsigned(const char *cert_path, const char *key_path,
                               const char *const *dns_names, size_t ndns,
                               const char *const *ip_addrs, size_t nip, int64_t not_before,
                               int64_t not_after, char *err, size_t err_len) {
    const char *cn = ndns > 0 && dns_names && dns_names[0] ? dns_names[0] : "quicc";
    return generate(cert_path, key_path, cn, dns_names, ndns, ip_addrs, nip, not_before, not_after,
                    false, NULL, false, err, err_len);
}

int qc_tls_generate_selfsigned_ed25519(const char *cert_path, const char *key_path,
                                       const char *const *dns_names, size_t ndns,
                                       const char *const *ip_addrs, size_t nip, int64_t not_before,
                                       int64_t not_after, char *err, size_t err_len) {
    const char *cn = ndns > 0 && dns_names && dns_names[0] ? dns_names[0] : "quicc";
    return generate(cert_path, key_path, cn, dns_names, ndns, ip_addrs, nip, not_before, not_after,
                    false, NULL, true, err, err_len);
}

int qc_tls_generate_ca(const char *cert_path, const char *key_path, const char *common_name,
                       int64_t not_before, int64_t not_after, char *err, size_t err_len) {
    if (common_name == NULL || common_name[0] == '\0')
        return cg_err(err, err_len, QC_ERR_INVAL, "CA needs a common name");
    return generate(cert_path, key_path, common_name, NULL, 0, NULL, 0, not_before, not_after, true,
                    NULL, false, err, err_len);
}

int qc_tls_generate_ca_signed(const char *cert_path, const char *key_path,
                              const char *const *dns_names, size_t ndns,
                              const char *const *ip_addrs, size_t nip, int64_t not_before,
                              int64_t not_after, const char *ca_cert_path, const char *ca_key_path,
                              char *err, size_t err_len) {
    if (ca_cert_path == NULL || ca_key_path == NULL)
        return cg_err(err, err_len, QC_ERR_INVAL, "no CA certificate or key");
    cg_issuer iss = {NULL, NULL};
    gnutls_datum_t cd = {NULL, 0}, kd = {NULL, 0};
    int code;
    int rv = gnutls_load_file(ca_cert_path, &cd);
    if (rv < 0) {
        code = cg_err(err, err_len, QC_ERR_INTERNAL, "cannot read %s", ca_cert_path);
        goto done;
    }
    rv = gnutls_load_file(ca_key_path, &kd);
    if (rv < 0) {
        code = cg_err(err, err_len, QC_ERR_INTERNAL, "cannot read %s", ca_key_path);
        goto done;
    }
    if ((rv = gnutls_x509_crt_init(&iss.crt)) < 0 ||
        (rv = gnutls_x509_crt_import(iss.crt, &cd, GNUTLS_X509_FMT_PEM)) < 0) {
        code = cg_err(err, err_len, QC_ERR_INVAL, "bad CA certificate %s: %s", ca_cert_path,
                      gnutls_strerror(rv));
        goto done;
    }
    if ((rv = gnutls_privkey_init(&iss.key)) < 0 ||
        (rv = gnutls_privkey_import_x509_raw(iss.key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        code = cg_err(err, err_len, QC_ERR_INVAL, "bad CA key %s: %s", ca_key_path,
                      gnutls_strerror(rv));
        goto done;
    }
    const char *cn = ndns > 0 && dns_names && dns_names[0] ? dns_names[0] : "quicc";
    code = generate(cert_path, key_path, cn, dns_names, ndns, ip_addrs, nip, not_before, not_after,
                    false, &iss, false, err, err_len);
done:
    if (iss.key) gnutls_privkey_deinit(iss.key);
    if (iss.crt) gnutls_x509_crt_deinit(iss.crt);
    gnutls_free(cd.data);
    gnutls_free(kd.data);
    return code;
}
