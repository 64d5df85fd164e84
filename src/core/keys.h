/*
 * keys.h: a connection's key schedule (RFC 9001 §4.9, §5, §6) as one value:
 * the packet protection keys of every epoch and direction, and for 1-RTT the
 * key phases: the current keys, the next generation (derived in advance, so
 * that a packet of the next phase can be opened), the previous receive keys
 * (kept for about three PTOs for reordered packets), and whether an update
 * we started is still unacknowledged. Pure state plus the crypto provider;
 * time comes in as an argument.
 */
#ifndef QC_KEYS_H
#define QC_KEYS_H

#include "core/crypto.h"

typedef struct qc_key_schedule {
    const qc_version *ver; /* the connection's version: its labels derive every key */
    qc_keys tx[QC_EPOCH_COUNT], rx[QC_EPOCH_COUNT]; /* current keys of each epoch */
    bool has_tx[QC_EPOCH_COUNT], has_rx[QC_EPOCH_COUNT];
    /* Initial receive keys of another version: a server's for the client's original version
     * after it negotiated another (RFC 9369 §4), a client's for the version a server's
     * Initial came in before it proved itself. */
    qc_keys rx_initial_alt;
    bool has_rx_initial_alt;
    /* 1-RTT key update */
    qc_keys tx_next, rx_next, rx_prev;
    bool has_next_tx, has_next_rx, has_rx_prev;
    qc_ts rx_prev_discard;      /* when rx_prev goes (QC_TS_NONE: none) */
    bool tx_phase, rx_phase;    /* key phase bits we send with / the current receive keys have */
    uint64_t rx_phase_first_pn; /* first packet number received in the current phase */
    uint64_t tx_phase_first_pn; /* first packet number sent in the current phase */
    bool update_pending;        /* we updated; no packet of the new phase acknowledged yet */
    uint64_t updates;           /* key updates so far (ours and the peer's) */
    uint64_t rx_auth_failures;  /* Handshake and 1-RTT packets that failed authentication */
} qc_key_schedule;

void qc_ks_init(qc_key_schedule *ks, const qc_version *ver);
/* Wipes every key. */
void qc_ks_free(qc_key_schedule *ks, const qc_crypto_provider *cp);

/* Installs the keys of an epoch and direction from a TLS secret (replacing any); for
 * 1-RTT also derives the next generation. */
int qc_ks_set_secret(qc_key_schedule *ks, const qc_crypto_provider *cp, enum qc_epoch ep,
                     bool is_write, enum qc_suite suite, const uint8_t *secret, size_t len);
/* The same with the labels of version ver (0-RTT keys keep the client's original version
 * when the connection moved to another: RFC 9369 §4). */
int qc_ks_set_secret_ver(qc_key_schedule *ks, const qc_crypto_provider *cp, enum qc_epoch ep,
                         bool is_write, const qc_version *ver, enum qc_suite suite,
                         const uint8_t *secret, size_t len);
/* Installs both directions' Initial keys of the schedule's version, from the client's
 * first Destination Connection ID (or the Retry's SCID). */
int qc_ks_set_initial(qc_key_schedule *ks, const qc_crypto_provider *cp, bool is_server,
                      const qc_cid *dcid);
/* Installs Initial receive keys of version ver beside the current ones. */
int qc_ks_set_initial_alt(qc_key_schedule *ks, const qc_crypto_provider *cp, bool is_server,
                          const qc_version *ver, const qc_cid *dcid);
/* The keys that open an Initial packet of this version: the current ones, the other
 * version's, or NULL. */
qc_keys *qc_ks_initial_rx(qc_key_schedule *ks, uint32_t version);
/* Moves the schedule to version ver before any Handshake key exists (compatible version
 * negotiation): new Initial keys in both directions; keep_old_rx keeps the old Initial
 * receive keys as the alternative (a server still reads the client's original version). */
int qc_ks_switch_version(qc_key_schedule *ks, const qc_crypto_provider *cp, bool is_server,
                         const qc_version *ver, const qc_cid *dcid, bool keep_old_rx);
void qc_ks_drop_initial_alt(qc_key_schedule *ks, const qc_crypto_provider *cp);
/* Drops an epoch's keys (RFC 9001 §4.9); Initial takes the alternative with it. */
void qc_ks_discard(qc_key_schedule *ks, const qc_crypto_provider *cp, enum qc_epoch ep);

/* The keys that open a 1-RTT packet with key phase bit phase and packet number pn: the
 * current ones, the previous ones for a reordered packet of the old phase, or the next
 * generation (*next set: if the packet opens, call qc_ks_rx_rotate). */
qc_keys *qc_ks_rx_keys(qc_key_schedule *ks, bool phase, uint64_t pn, bool *next);
/* A packet (number pn) opened with the next generation: the receive keys move on, the
 * old ones stay until discard_at; when the peer started the update, the send keys follow,
 * from packet number next_tx_pn. Returns 0 or QC_ERR_CRYPTO. */
int qc_ks_rx_rotate(qc_key_schedule *ks, const qc_crypto_provider *cp, uint64_t pn,
                    uint64_t next_tx_pn, qc_ts discard_at);
/* Starts an update of our send keys from packet number next_tx_pn: QC_ERR_AGAIN while
 * the previous one is unacknowledged or its old receive keys are still kept (RFC 9001
 * §6.1), or before 1-RTT keys exist. */
int qc_ks_initiate(qc_key_schedule *ks, const qc_crypto_provider *cp, uint64_t next_tx_pn);
/* A 1-RTT packet we sent was acknowledged: one of the new phase ends our update. */
void qc_ks_on_acked(qc_key_schedule *ks, uint64_t pn);
/* When the previous receive keys go (QC_TS_NONE: none kept), and dropping them then. */
qc_ts qc_ks_timer(const qc_key_schedule *ks);
void qc_ks_on_timeout(qc_key_schedule *ks, const qc_crypto_provider *cp, qc_ts now);

#endif
