/*
 * hs.h: the interface between the connection engine and a TLS 1.3
 * handshake implementation (RFC 9001 §4). The engine owns no TLS code: it
 * is given a qc_hs (ops + opaque implementation) and a set of callbacks
 * through which the TLS side hands back secrets, handshake bytes to send
 * and the peer's transport parameters. src/tls/tls_gnutls.c implements it.
 */
#ifndef QC_HS_H
#define QC_HS_H

#include "core/common.h"
#include "core/crypto.h"

/* What the TLS side calls on the engine. Every callback returns 0 or a negative QC_ERR_*. */
typedef struct qc_hs_callbacks {
    void *user; /* the engine's connection */
    /* A traffic secret for epoch became available, for sending (is_write) or receiving. */
    int (*set_secret)(void *user, enum qc_epoch epoch, bool is_write, enum qc_suite suite,
                      const uint8_t *secret, size_t secret_len);
    /* Handshake bytes to send in CRYPTO frames at epoch (copied by the engine). */
    int (*send_crypto)(void *user, enum qc_epoch epoch, const uint8_t *data, size_t len);
    /* The peer's quic_transport_parameters extension (raw bytes). */
    int (*peer_tparams)(void *user, const uint8_t *data, size_t len);
} qc_hs_callbacks;

typedef struct qc_hs_ops {
    /* Sets the local transport parameters to send (copied); until they are sent (a server
     * may replace them from the peer_tparams callback). */
    int (*set_local_tparams)(void *impl, const uint8_t *data, size_t len);
    /* Client: produces the ClientHello through send_crypto. Server: no-op. */
    int (*start)(void *impl);
    /*
     * Feeds handshake bytes received at epoch, in order, and advances the
     * handshake. Returns 0, or QC_ERR_TLS (sets *alert to the TLS alert to
     * close with: the connection's error is 0x100 + alert), or QC_ERR_VERIFY
     * when the peer's certificate failed verification (*alert is set too).
     */
    int (*recv_crypto)(void *impl, enum qc_epoch epoch, const uint8_t *data, size_t len,
                       uint8_t *alert);
    /* True once the TLS handshake has completed. */
    bool (*is_complete)(void *impl);
    /* Negotiated ALPN (NULL before or if none) and its length. */
    const uint8_t *(*alpn)(void *impl, size_t *len);
    /* 0-RTT (RFC 9001 §4.6): QC_EARLY_NONE when not attempted (client) or not offered
     * (server), QC_EARLY_ACCEPTED / QC_EARLY_REJECTED once the handshake has decided
     * (server: as soon as it read the ClientHello; client: at EncryptedExtensions). */
    int (*early_data)(void *impl);
    /* Server: the connection's QUIC version, before the ClientHello is read and again when
     * the version is negotiated (from the peer_tparams callback). Session tickets are bound
     * to it (RFC 9369 §5): a ticket from another version is not accepted (a full handshake
     * follows) and the tickets issued belong to it. NULL when the provider has no tickets. */
    int (*set_version)(void *impl, uint32_t version);
    void (*free)(void *impl);
} qc_hs_ops;

enum { QC_EARLY_NONE = 0, QC_EARLY_ACCEPTED = 1, QC_EARLY_REJECTED = 2, QC_EARLY_PENDING = 3 };

typedef struct qc_hs {
    const qc_hs_ops *ops;
    void *impl;
} qc_hs;

#endif
