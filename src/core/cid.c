/*
 * cid.c: connection-ID bookkeeping (see cid.h, RFC 9000 §5.1 and §10.3).
 *
 * Both sides live in fixed arrays of QC_CID_SLOTS entries: no allocation.
 * Peer IDs below retire_prior_to are dropped from the array and their
 * sequence numbers queued in retire_pending for RETIRE_CONNECTION_ID.
 */
#include "core/cid.h"

static void entry_set(qc_cid_entry *e, uint64_t seq, const qc_cid *cid, const uint8_t *token) {
    memset(e, 0, sizeof(*e));
    e->seq = seq;
    if (cid) e->cid = *cid;
    if (token) {
        memcpy(e->token, token, QC_RESET_TOKEN_LEN);
        e->has_token = true;
    }
    e->in_use = true;
}

void qc_cids_init(qc_cids *c, const qc_cid *local0, const qc_cid *peer0) {
    memset(c, 0, sizeof(*c));
    entry_set(&c->local[0], 0, local0, NULL);
    c->local[0].sent = true; /* seq 0 travels in the handshake, not in NEW_CONNECTION_ID */
    c->local_next_seq = 1;
    entry_set(&c->peer[0], 0, peer0, NULL);
    c->peer_cur = 0;
    c->peer_limit = 2; /* RFC 9000 §18.2 default */
}

qc_cid_entry *qc_cids_issue(qc_cids *c, const qc_cid *cid, const uint8_t token[16]) {
    size_t active = 0;
    qc_cid_entry *slot = NULL;
    for (size_t i = 0; i < QC_CID_SLOTS; i++) {
        if (c->local[i].in_use)
            active++;
        else if (!slot)
            slot = &c->local[i];
    }
    if (!slot || active >= c->peer_limit) return NULL;
    entry_set(slot, c->local_next_seq++, cid, token);
    return slot;
}

bool qc_cids_is_local(const qc_cids *c, const qc_cid *cid) {
    for (size_t i = 0; i < QC_CID_SLOTS; i++)
        if (c->local[i].in_use && qc_cid_eq(&c->local[i].cid, cid)) return true;
    return false;
}

void qc_cids_set_peer_token(qc_cids *c, const uint8_t token[16]) {
    for (size_t i = 0; i < QC_CID_SLOTS; i++) {
        qc_cid_entry *e = &c->peer[i];
        if (e->in_use && e->seq == 0) {
            memcpy(e->token, token, QC_RESET_TOKEN_LEN);
            e->has_token = true;
        }
    }
}

static int queue_retire(qc_cids *c, uint64_t seq) {
    for (size_t i = 0; i < c->nretire; i++)
        if (c->retire_pending[i] == seq) return 0;
    /* Too many retirements outstanding (RFC 9000 §5.1.2). */
    if (c->nretire >= QC_CID_SLOTS) return QC_ERR_CID_LIMIT;
    c->retire_pending[c->nretire++] = seq;
    return 0;
}

/*
 * Processes the peer's NEW_CONNECTION_ID: validates it against what we
 * hold, retires IDs below retire_prior_to, stores the new ID and moves the
 * current ID if it was retired. Errors: QC_ERR_FRAME_ENCODING (bad
 * length, retire_prior_to > seq), QC_ERR_PROTO (conflicting duplicate,
 * or the peer uses a zero-length ID), QC_ERR_CID_LIMIT.
 */
int qc_cids_on_new(qc_cids *c, uint64_t seq, uint64_t retire_prior_to, const qc_cid *cid,
                   const uint8_t token[16]) {
    if (retire_prior_to > seq || cid->len == 0 || cid->len > QC_MAX_CID_LEN)
        return QC_ERR_FRAME_ENCODING;
    if (c->peer[c->peer_cur].in_use && c->peer[c->peer_cur].cid.len == 0) return QC_ERR_PROTO;
    bool dup = false;
    for (size_t i = 0; i < QC_CID_SLOTS; i++) {
        const qc_cid_entry *e = &c->peer[i];
        if (!e->in_use) continue;
        bool same_cid = qc_cid_eq(&e->cid, cid);
        if (e->seq == seq) {
            if (!same_cid || !e->has_token || memcmp(e->token, token, QC_RESET_TOKEN_LEN) != 0)
                return QC_ERR_PROTO;
            dup = true;
        } else if (same_cid) {
            return QC_ERR_PROTO; /* one ID under two sequence numbers */
        }
    }
    int rv;
    if (seq < c->peer_retire_prior_to) {
        /* Already retired by an earlier retire_prior_to: retire right away. */
        return dup ? 0 : queue_retire(c, seq);
    }
    if (retire_prior_to > c->peer_retire_prior_to) {
        c->peer_retire_prior_to = retire_prior_to;
        for (size_t i = 0; i < QC_CID_SLOTS; i++) {
            qc_cid_entry *e = &c->peer[i];
            if (!e->in_use || e->seq >= retire_prior_to) continue;
            if ((rv = queue_retire(c, e->seq)) != 0) return rv;
            e->in_use = false;
            e->retired = true;
        }
    }
    /* The slot of a retired current ID may be reused below: decide now whether to move. */
    bool move = !c->peer[c->peer_cur].in_use;
    if (!dup) {
        qc_cid_entry *slot = NULL;
        for (size_t i = 0; i < QC_CID_SLOTS && !slot; i++)
            if (!c->peer[i].in_use) slot = &c->peer[i];
        if (!slot) return QC_ERR_CID_LIMIT;
        entry_set(slot, seq, cid, token);
    }
    if (move) {
        /* Switch to the lowest sequence number still active. */
        size_t best = QC_CID_SLOTS;
        for (size_t i = 0; i < QC_CID_SLOTS; i++)
            if (c->peer[i].in_use && (best == QC_CID_SLOTS || c->peer[i].seq < c->peer[best].seq))
                best = i;
        if (best < QC_CID_SLOTS) c->peer_cur = best;
    }
    return 0;
}

int qc_cids_on_retire(qc_cids *c, uint64_t seq, const qc_cid *pkt_dcid) {
    if (seq >= c->local_next_seq) return QC_ERR_PROTO;
    for (size_t i = 0; i < QC_CID_SLOTS; i++) {
        qc_cid_entry *e = &c->local[i];
        if (!e->in_use || e->seq != seq) continue;
        if (pkt_dcid && qc_cid_eq(&e->cid, pkt_dcid)) return QC_ERR_PROTO;
        e->in_use = false;
        e->retired = true;
        return 0;
    }
    return 0; /* already retired */
}

bool qc_cids_rotate(qc_cids *c) {
    qc_cid_entry *cur = &c->peer[c->peer_cur];
    size_t best = QC_CID_SLOTS;
    for (size_t i = 0; i < QC_CID_SLOTS; i++)
        if (i != c->peer_cur && c->peer[i].in_use &&
            (best == QC_CID_SLOTS || c->peer[i].seq < c->peer[best].seq))
            best = i;
    if (best == QC_CID_SLOTS || cur->cid.len == 0 || queue_retire(c, cur->seq) != 0) return false;
    cur->in_use = false;
    cur->retired = true;
    c->peer_cur = best;
    return true;
}

const qc_cid *qc_cids_peer_current(const qc_cids *c) {
    return &c->peer[c->peer_cur].cid;
}

/* Constant-time comparison of the datagram's last 16 bytes with every token. */
bool qc_cids_is_stateless_reset(const qc_cids *c, const uint8_t *dgram, size_t len) {
    if (!dgram || len < 21) return false;
    const uint8_t *tail = dgram + len - QC_RESET_TOKEN_LEN;
    unsigned found = 0;
    for (size_t i = 0; i < QC_CID_SLOTS; i++) {
        const qc_cid_entry *e = &c->peer[i];
        unsigned diff = 0;
        for (size_t k = 0; k < QC_RESET_TOKEN_LEN; k++)
            diff |= (unsigned)(e->token[k] ^ tail[k]);
        unsigned usable = (unsigned)(e->in_use && e->has_token);
        found |= usable & (unsigned)(diff == 0);
    }
    return found != 0;
}
