/*
 * keys.c: the key schedule (keys.h). Every change of 1-RTT key phase happens
 * here: our update (qc_ks_initiate), the peer's (qc_ks_rx_rotate), and the
 * end of the old phase (qc_ks_on_acked, qc_ks_on_timeout).
 */
#include "core/keys.h"

#include <assert.h>
#include <string.h>

void qc_ks_init(qc_key_schedule *ks, const qc_version *ver) {
    memset(ks, 0, sizeof(*ks));
    ks->ver = ver;
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
    clear_if(cp, &ks->rx_initial_alt, &ks->has_rx_initial_alt);
}

/* Installs the keys of an epoch and direction from a secret, with ver's labels. */
static int set_keys(qc_key_schedule *ks, const qc_crypto_provider *cp, enum qc_epoch ep,
                    bool is_write, const qc_version *ver, enum qc_suite suite,
                    const uint8_t *secret, size_t len) {
    qc_keys *k = is_write ? &ks->tx[ep] : &ks->rx[ep];
    bool *has = is_write ? &ks->has_tx[ep] : &ks->has_rx[ep];
    clear_if(cp, k, has);
    int rv = qc_keys_from_secret(cp, k, ver, suite, secret, len);
    *has = rv == 0;
    return rv;
}

int qc_ks_set_secret(qc_key_schedule *ks, const qc_crypto_provider *cp, enum qc_epoch ep,
                     bool is_write, enum qc_suite suite, const uint8_t *secret, size_t len) {
    int rv = set_keys(ks, cp, ep, is_write, ks->ver, suite, secret, len);
    if (rv || ep != QC_EPOCH_1RTT) return rv;
    /* Derive the next generation now: a packet of the next phase must be openable. */
    qc_keys *k = is_write ? &ks->tx[ep] : &ks->rx[ep];
    qc_keys *next = is_write ? &ks->tx_next : &ks->rx_next;
    bool *has_next = is_write ? &ks->has_next_tx : &ks->has_next_rx;
    clear_if(cp, next, has_next);
    rv = qc_keys_update(cp, next, k);
    if (rv == 0) *has_next = true;
    return rv;
}

int qc_ks_set_secret_ver(qc_key_schedule *ks, const qc_crypto_provider *cp, enum qc_epoch ep,
                         bool is_write, const qc_version *ver, enum qc_suite suite,
                         const uint8_t *secret, size_t len) {
    assert(ep != QC_EPOCH_1RTT); /* 1-RTT keys have a next generation: qc_ks_set_secret */
    return set_keys(ks, cp, ep, is_write, ver, suite, secret, len);
}

void qc_ks_discard(qc_key_schedule *ks, const qc_crypto_provider *cp, enum qc_epoch ep) {
    clear_if(cp, &ks->tx[ep], &ks->has_tx[ep]);
    clear_if(cp, &ks->rx[ep], &ks->has_rx[ep]);
    if (ep == QC_EPOCH_INITIAL) clear_if(cp, &ks->rx_initial_alt, &ks->has_rx_initial_alt);
}

/* Initial keys of ver for one direction: the client's secret or the server's. */
static int initial_keys(const qc_crypto_provider *cp, const qc_version *ver, const qc_cid *dcid,
                        bool client_side, qc_keys *k) {
    uint8_t cs[32], ss[32];
    int rv = qc_initial_secrets(cp, ver->number, dcid, cs, ss);
    if (!rv)
        rv =
            qc_keys_from_secret(cp, k, ver, QC_SUITE_AES_128_GCM_SHA256, client_side ? cs : ss, 32);
    memset(cs, 0, sizeof(cs));
    memset(ss, 0, sizeof(ss));
    return rv;
}

int qc_ks_set_initial(qc_key_schedule *ks, const qc_crypto_provider *cp, bool is_server,
                      const qc_cid *dcid) {
    uint8_t cs[32], ss[32];
    int rv = qc_initial_secrets(cp, ks->ver->number, dcid, cs, ss);
    /* We write with our side's secret and read with the peer's. */
    if (!rv)
        rv = set_keys(ks, cp, QC_EPOCH_INITIAL, true, ks->ver, QC_SUITE_AES_128_GCM_SHA256,
                      is_server ? ss : cs, 32);
    if (!rv)
        rv = set_keys(ks, cp, QC_EPOCH_INITIAL, false, ks->ver, QC_SUITE_AES_128_GCM_SHA256,
                      is_server ? cs : ss, 32);
    memset(cs, 0, sizeof(cs));
    memset(ss, 0, sizeof(ss));
    return rv;
}

int qc_ks_set_initial_alt(qc_key_schedule *ks, const qc_crypto_provider *cp, bool is_server,
                          const qc_version *ver, const qc_cid *dcid) {
    clear_if(cp, &ks->rx_initial_alt, &ks->has_rx_initial_alt);
    int rv = initial_keys(cp, ver, dcid, is_server, &ks->rx_initial_alt);
    ks->has_rx_initial_alt = rv == 0;
    return rv;
}

qc_keys *qc_ks_initial_rx(qc_key_schedule *ks, uint32_t version) {
    if (ks->has_rx[QC_EPOCH_INITIAL] && ks->rx[QC_EPOCH_INITIAL].ver->number == version)
        return &ks->rx[QC_EPOCH_INITIAL];
    if (ks->has_rx_initial_alt && ks->rx_initial_alt.ver->number == version)
        return &ks->rx_initial_alt;
    return NULL;
}

int qc_ks_switch_version(qc_key_schedule *ks, const qc_crypto_provider *cp, bool is_server,
                         const qc_version *ver, const qc_cid *dcid, bool keep_old_rx) {
    /* Only Initial keys may exist yet: every later key is derived with the new labels. */
    assert(!ks->has_tx[QC_EPOCH_HANDSHAKE] && !ks->has_rx[QC_EPOCH_HANDSHAKE] &&
           !ks->has_tx[QC_EPOCH_1RTT] && !ks->has_rx[QC_EPOCH_1RTT]);
    clear_if(cp, &ks->rx_initial_alt, &ks->has_rx_initial_alt);
    if (keep_old_rx && ks->has_rx[QC_EPOCH_INITIAL]) {
        ks->rx_initial_alt = ks->rx[QC_EPOCH_INITIAL];
        ks->has_rx_initial_alt = true;
        memset(&ks->rx[QC_EPOCH_INITIAL], 0, sizeof(ks->rx[QC_EPOCH_INITIAL]));
        ks->has_rx[QC_EPOCH_INITIAL] = false;
    }
    ks->ver = ver;
    return qc_ks_set_initial(ks, cp, is_server, dcid);
}

void qc_ks_drop_initial_alt(qc_key_schedule *ks, const qc_crypto_provider *cp) {
    clear_if(cp, &ks->rx_initial_alt, &ks->has_rx_initial_alt);
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
