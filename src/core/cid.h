/*
 * cid.h: connection-ID bookkeeping (RFC 9000 §5.1): the IDs this endpoint
 * issued (with stateless reset tokens) and the IDs the peer issued to us
 * (NEW_CONNECTION_ID / RETIRE_CONNECTION_ID, active_connection_id_limit,
 * retire_prior_to), and stateless reset detection (§10.3).
 */
#ifndef QC_CID_H
#define QC_CID_H

#include "core/common.h"

#define QC_CID_SLOTS 8 /* active IDs kept per side; our active_connection_id_limit */

typedef struct qc_cid_entry {
    uint64_t seq;
    qc_cid cid;
    uint8_t token[QC_RESET_TOKEN_LEN];
    bool has_token;
    bool in_use;  /* slot occupied */
    bool retired; /* local: peer retired it; peer: we must send RETIRE_CONNECTION_ID */
    bool sent;    /* local: NEW_CONNECTION_ID sent (and not lost) */
} qc_cid_entry;

typedef struct qc_cids {
    qc_cid_entry local[QC_CID_SLOTS]; /* IDs we issued */
    uint64_t local_next_seq;
    qc_cid_entry peer[QC_CID_SLOTS]; /* IDs the peer issued; peer[cur] is in use */
    size_t peer_cur;
    uint64_t peer_retire_prior_to;
    uint64_t peer_limit;                   /* peer's active_connection_id_limit */
    uint64_t retire_pending[QC_CID_SLOTS]; /* sequence numbers to send RETIRE for */
    size_t nretire;
} qc_cids;

/* Starts with our initial SCID (seq 0) and the peer's initial CID (seq 0). */
void qc_cids_init(qc_cids *c, const qc_cid *local0, const qc_cid *peer0);
/* Adds an ID we issue (seq assigned); returns the entry or NULL when full (QC_CID_SLOTS, or
 * the peer's peer_limit active IDs). */
qc_cid_entry *qc_cids_issue(qc_cids *c, const qc_cid *cid, const uint8_t token[16]);
/* Is cid one of our active IDs? */
bool qc_cids_is_local(const qc_cids *c, const qc_cid *cid);
/* Records the stateless reset token for the peer's seq-0 CID (from transport parameters). */
void qc_cids_set_peer_token(qc_cids *c, const uint8_t token[16]);
/* Peer's NEW_CONNECTION_ID. Returns 0, QC_ERR_CID_LIMIT (too many active, or too many
 * RETIRE_CONNECTION_ID pending), QC_ERR_PROTO (same seq with a different ID or token, same
 * ID with another seq, or the peer uses a zero-length ID), or QC_ERR_FRAME_ENCODING
 * (retire_prior_to > seq, ID length not 1..20). */
int qc_cids_on_new(qc_cids *c, uint64_t seq, uint64_t retire_prior_to, const qc_cid *cid,
                   const uint8_t token[16]);
/* Peer's RETIRE_CONNECTION_ID for one of ours. Returns 0 or QC_ERR_PROTO (seq never issued,
 * or the ID the packet was sent to). */
int qc_cids_on_retire(qc_cids *c, uint64_t seq, const qc_cid *pkt_dcid);
/* The CID to send to. */
const qc_cid *qc_cids_peer_current(const qc_cids *c);
/* Moves to an unused ID of the peer's (the lowest sequence number), retiring the current
 * one (RETIRE_CONNECTION_ID queued): after a path change, so that the new path cannot be
 * linked to the old (RFC 9000 §9.5). Returns false when the peer gave no spare. */
bool qc_cids_rotate(qc_cids *c);
/* Does the tail of a datagram match a stateless reset token the peer gave us? */
bool qc_cids_is_stateless_reset(const qc_cids *c, const uint8_t *dgram, size_t len);

#endif
