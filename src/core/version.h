/*
 * version.h: the QUIC versions quicc speaks and what differs between them
 * (RFC 9369 §3): the Initial salt, the HKDF labels of packet protection, the
 * Retry integrity key and nonce, and the long-header Type bits; and the pure
 * parts of compatible version negotiation (RFC 9368): version lists and the
 * server's choice. Every version here is compatible with every other.
 */
#ifndef QC_VERSION_H
#define QC_VERSION_H

#include "core/common.h"

#define QC_VERSION_2 0x6b3343cfu       /* RFC 9369 */
#define QC_VERSION_2_DRAFT 0x709a50c4u /* draft-ietf-quic-v2 (ngtcp2 0.12 calls it v2draft) */
#define QC_MAX_VERSIONS 4              /* versions one endpoint is configured with */

typedef struct qc_version {
    uint32_t number;
    const char *name; /* "v1", "v2", "v2draft" */
    uint8_t initial_salt[20];
    uint8_t retry_key[16], retry_nonce[12];
    const char *label_key, *label_iv, *label_hp, *label_ku;
    uint8_t type_bits[4]; /* the Type field of Initial, 0-RTT, Handshake and Retry packets */
} qc_version;

/* The description of a version, or NULL if quicc does not speak it. */
const qc_version *qc_version_find(uint32_t number);
/* The version's name ("v1", ...) or NULL. */
const char *qc_version_name(uint32_t number);
/* Parses "v1", "v2", "v2draft" or a hexadecimal number of a known version (0x...);
 * returns 0 or QC_ERR_INVAL. */
int qc_version_parse(const char *s, uint32_t *number);

/* Versions in order of preference. */
typedef struct qc_version_list {
    uint32_t v[QC_MAX_VERSIONS];
    uint8_t n;
} qc_version_list;

bool qc_version_list_has(const qc_version_list *l, uint32_t v);
/* Parses a comma-separated list of names ("v2,v1"): known versions, none twice, at least
 * one; returns 0 or QC_ERR_INVAL. */
int qc_version_list_parse(const char *s, qc_version_list *l);

/*
 * The server's choice (RFC 9368 §2.3): the first version of ours (in our order of
 * preference) that the client lists among the n versions of offered, or the client's
 * original version when it offers none of ours.
 */
uint32_t qc_version_negotiate(const qc_version_list *ours, uint32_t original,
                              const uint32_t *offered, size_t n);

#endif
