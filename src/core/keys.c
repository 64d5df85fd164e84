/*
 * keys.c: the key schedule (keys.h). Every change of 1-RTT key phase happens
 * here: our update (qc_ks_initiate), the peer's (qc_ks_rx_rotate), and the
 * end of the old phase (qc_ks_on_acked, qc_ks_on_timeout).
 */
#include "core/keys.h"

#include <string.h>

void qc_ks_init(qc_key_schedule *ks) {
    memset(ks, 0, sizeof(*ks));
    ks->rx_prev_discard = QC_TS_NONE;
}

static void clear_if(const qc_crypto_provider *cp, qc_keys *k, bool *has) {
    if (*has) qc_keys_clear(cp, k);
    *has = false;
}

void qc_ks_free(qc_key_schedule *ks, const qc_crypto_provider *cp) {
    for (int e = 0; e < QC_EPOCH_COUNT; e++) {
        clear_if(cp, &ks->tx[e], &ks->has_tx[e]);
        clear_if(cp, &ks->rx[e], &ks->has_rx[e]);
    }
    clear_if(cp, &ks->tx_next, &ks->has_next_tx);
    clear_if(cp, &ks->rx_next, &ks->has_next_rx);
    clear_if(cp, &ks->rx_prev, &ks->has_rx_prev);
}

int qc_ks_set_secret(qc_key_schedule *ks, const qc_crypto_provider *cp, enum qc_epoch ep,
                     bool is_write, enum qc_suite suite, const uint8_t *secret, size_t len) {
    qc_keys *k = is_write ? &ks->tx[ep] : &ks->rx[ep];
    bool *has = is_write ? &ks->has_tx[ep] : &ks->has_rx[ep];
    clear_if(cp, k, has);
    int rv = qc_keys_from_secret(cp, k, suite, secret, len);
    if (rv) return rv;
    *has = true;
    if (ep != QC_EPOCH_1RTT) return 0;
    /* Derive the next generation now: a packet of the next phase must be openable. */
    qc_keys *next = is_write ? &ks->tx_next : &ks->rx_next;
    bool *has_next = is_write ? &ks->has_next_tx : &ks->has_next_rx;
    clear_if(cp, next, has_next);
    rv = qc_keys_update(cp, next, k);
    if (rv == 0) *has_next = true;
    return rv;
}

void qc_ks_discard(qc_key_schedule *ks, const qc_crypto_provider *cp, enum qc_epoch ep) {
    clear_if(cp, &ks->tx[ep], &ks->has_tx[ep]);
    clear_if(cp, &ks->rx[ep], &ks->has_rx[ep]);
}

qc_keys *qc_ks_rx_keys(qc_key_schedule *ks, bool phase, uint64_t pn, bool *next) {
    *next = false;
    if (phase == ks->rx_phase) return &ks->rx[QC_EPOCH_1RTT];
    if (ks->has_rx_prev && pn < ks->rx_phase_first_pn) return &ks->rx_prev;
    *next = true;
    return &ks->rx_next;
}

/* Moves cur to the next generation: cur takes next, next is derived anew. */
static int advance(const qc_crypto_provider *cp, qc_keys *cur, qc_keys *next) {
    *cur = *next;
    memset(next, 0, sizeof(*next));
    return qc_keys_update(cp, next, cur);
}

int qc_ks_rx_rotate(qc_key_schedule *ks, const qc_crypto_provider *cp, uint64_t pn,
                    uint64_t next_tx_pn, qc_ts discard_at) {
    clear_if(cp, &ks->rx_prev, &ks->has_rx_prev);
    ks->rx_prev = ks->rx[QC_EPOCH_1RTT];
    ks->has_rx_prev = true;
    ks->rx_prev_discard = discard_at;
    int rv = advance(cp, &ks->rx[QC_EPOCH_1RTT], &ks->rx_next);
    if (rv) return rv;
    ks->rx_phase = !ks->rx_phase;
    ks->rx_phase_first_pn = pn;
    if (ks->tx_phase == ks->rx_phase) return 0; /* the peer answered our update */
    /* The peer started this update: our send keys follow. */
    qc_keys old = ks->tx[QC_EPOCH_1RTT];
    rv = advance(cp, &ks->tx[QC_EPOCH_1RTT], &ks->tx_next);
    qc_keys_clear(cp, &old);
    if (rv) return rv;
    ks->tx_phase = ks->rx_phase;
    ks->tx_phase_first_pn = next_tx_pn;
    ks->updates++;
    return 0;
}

int qc_ks_initiate(qc_key_schedule *ks, const qc_crypto_provider *cp, uint64_t next_tx_pn) {
    if (!ks->has_tx[QC_EPOCH_1RTT] || !ks->has_next_tx) return QC_ERR_AGAIN;
    if (ks->update_pending || ks->has_rx_prev) return QC_ERR_AGAIN;
    qc_keys old = ks->tx[QC_EPOCH_1RTT];
    int rv = advance(cp, &ks->tx[QC_EPOCH_1RTT], &ks->tx_next);
    qc_keys_clear(cp, &old);
    if (rv) return rv;
    ks->tx_phase = !ks->tx_phase;
    ks->update_pending = true;
    ks->tx_phase_first_pn = next_tx_pn;
    ks->updates++;
    return 0;
}

void qc_ks_on_acked(qc_key_schedule *ks, uint64_t pn) {
    if (ks->update_pending && pn >= ks->tx_phase_first_pn) ks->update_pending = false;
}

qc_ts qc_ks_timer(const qc_key_schedule *ks) {
    return ks->has_rx_prev ? ks->rx_prev_discard : QC_TS_NONE;
}

void qc_ks_on_timeout(qc_key_schedule *ks, const qc_crypto_provider *cp, qc_ts now) {
    if (!ks->has_rx_prev || now < ks->rx_prev_discard) return;
    clear_if(cp, &ks->rx_prev, &ks->has_rx_prev);
    ks->rx_prev_discard = QC_TS_NONE;
}
