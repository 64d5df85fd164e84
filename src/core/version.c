/*
 * version.c: the table of QUIC versions (RFC 9000 and RFC 9001 for v1, RFC 9369 for
 * v2, draft-ietf-quic-v2 for the draft number older stacks still use) and the
 * server's choice in compatible version negotiation.
 */
#include "core/version.h"

#include <stdlib.h>

static const qc_version versions[] = {
    {
        .number = QC_VERSION_1,
        .name = "v1",
        .initial_salt = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                         0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
        .retry_key = {0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3,
                      0x68, 0xc8, 0x4e},
        .retry_nonce = {0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb},
        .label_key = "quic key",
        .label_iv = "quic iv",
        .label_hp = "quic hp",
        .label_ku = "quic ku",
        .type_bits = {0, 1, 2, 3},
    },
    {
        .number = QC_VERSION_2,
        .name = "v2",
        .initial_salt = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                         0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
        .retry_key = {0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad,
                      0x7c, 0xcc, 0x92},
        .retry_nonce = {0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a},
        .label_key = "quicv2 key",
        .label_iv = "quicv2 iv",
        .label_hp = "quicv2 hp",
        .label_ku = "quicv2 ku",
        .type_bits = {1, 2, 3, 0},
    },
    {
        .number = QC_VERSION_2_DRAFT,
        .name = "v2draft",
        .initial_salt = {0xa7, 0x07, 0xc2, 0x03, 0xa5, 0x9b, 0x47, 0x18, 0x4a, 0x1d,
                         0x62, 0xca, 0x57, 0x04, 0x06, 0xea, 0x7a, 0xe3, 0xe5, 0xd3},
        .retry_key = {0xba, 0x85, 0x8d, 0xc7, 0xb4, 0x3d, 0xe5, 0xdb, 0xf8, 0x76, 0x17, 0xff, 0x4a,
                      0xb2, 0x53, 0xdb},
        .retry_nonce = {0x14, 0x1b, 0x99, 0xc2, 0x39, 0xb0, 0x3e, 0x78, 0x5d, 0x6a, 0x2e, 0x9f},
        .label_key = "quicv2 key",
        .label_iv = "quicv2 iv",
        .label_hp = "quicv2 hp",
        .label_ku = "quicv2 ku",
        .type_bits = {1, 2, 3, 0},
    },
};

const qc_version *qc_version_find(uint32_t number) {
    for (size_t i = 0; i < QC_ARRAY_LEN(versions); i++)
        if (versions[i].number == number) return &versions[i];
    return NULL;
}

const char *qc_version_name(uint32_t number) {
    const qc_version *v = qc_version_find(number);
    return v ? v->name : NULL;
}

int qc_version_parse(const char *s, uint32_t *number) {
    for (size_t i = 0; i < QC_ARRAY_LEN(versions); i++) {
        if (strcmp(s, versions[i].name) == 0) {
            *number = versions[i].number;
            return 0;
        }
    }
    char *end;
    if (strncmp(s, "0x", 2) != 0 || !s[2]) return QC_ERR_INVAL;
    unsigned long n = strtoul(s + 2, &end, 16);
    if (*end || n > UINT32_MAX || !qc_version_find((uint32_t)n)) return QC_ERR_INVAL;
    *number = (uint32_t)n;
    return 0;
}

bool qc_version_list_has(const qc_version_list *l, uint32_t v) {
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == v) return true;
    return false;
}

int qc_version_list_parse(const char *s, qc_version_list *l) {
    qc_version_list out = {.n = 0};
    char name[16];
    while (*s) {
        size_t len = strcspn(s, ",");
        if (len == 0 || len >= sizeof(name) || out.n == QC_MAX_VERSIONS) return QC_ERR_INVAL;
        memcpy(name, s, len);
        name[len] = 0;
        uint32_t v;
        if (qc_version_parse(name, &v) || qc_version_list_has(&out, v)) return QC_ERR_INVAL;
        out.v[out.n++] = v;
        s += len;
        if (*s == ',' && !*++s) return QC_ERR_INVAL; /* a trailing comma */
    }
    if (out.n == 0) return QC_ERR_INVAL;
    *l = out;
    return 0;
}

uint32_t qc_version_negotiate(const qc_version_list *ours, uint32_t original,
                              const uint32_t *offered, size_t n) {
    for (size_t i = 0; i < ours->n; i++)
        for (size_t j = 0; j < n; j++)
            if (offered[j] == ours->v[i] && qc_version_find(ours->v[i])) return ours->v[i];
    return original;
}
