/*
 * tls.h: the GnuTLS implementation of the handshake interface (core/hs.h)
 * and of the crypto provider (core/crypto.h). This directory is the only
 * code in quicc that talks to GnuTLS.
 */
#ifndef QC_TLS_H
#define QC_TLS_H

#include "core/crypto.h"
#include "core/hs.h"

/* The crypto provider backed by GnuTLS (AES-GCM, ChaCha20-Poly1305, HKDF). */
extern const qc_crypto_provider qc_gnutls_crypto;

/* Shared configuration: credentials and trust. Immutable once built; refcounted. */
typedef struct qc_tls_ctx qc_tls_ctx;

typedef struct qc_tls_ctx_config {
    bool is_server;
    /* ALPN protocols in preference order, each 1..255 bytes. */
    const char *const *alpn;
    size_t alpn_count;
    /* Client: verify the server certificate (default true). */
    bool verify_peer;
    /* Client: PEM CA file; NULL = system trust store (honours SSL_CERT_FILE and SSL_CERT_DIR). */
    const char *ca_file;
    /* Server: PEM certificate chain and key files. */
    const char *cert_file, *key_file;
    /* NSS key log file to append secrets to (NULL = none). */
    const char *keylog_file;
} qc_tls_ctx_config;

/* Creates a context; on failure returns NULL and writes a reason into err (if not NULL). */
qc_tls_ctx *qc_tls_ctx_new(const qc_tls_ctx_config *cfg, char *err, size_t err_len);
void qc_tls_ctx_free(qc_tls_ctx *ctx);

/*
 * Creates the handshake for one connection. server_name is the SNI and the
 * name checked against the certificate (client; may be NULL to skip SNI and
 * name checks). On success fills hs and returns 0.
 */
int qc_tls_new(qc_tls_ctx *ctx, const char *server_name, const qc_hs_callbacks *cbs, qc_hs *hs);

/* After a QC_ERR_VERIFY: a one-line reason ("untrusted issuer", "name mismatch", "expired"...). */
const char *qc_tls_verify_error(const qc_hs *hs);
/* Verification status bits (GnuTLS gnutls_certificate_status_t), 0 when trusted. */
unsigned qc_tls_verify_status(const qc_hs *hs);

#endif
