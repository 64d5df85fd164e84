/*
 * varint.h: the bounds-checked byte cursors every wire codec in quicc uses,
 * and QUIC variable-length integers (RFC 9000 §16).
 *
 * A reader is {p, end}; every qc_rd_* call either consumes and returns 0, or
 * leaves the cursor unchanged and returns QC_ERR_DECODE. A writer is
 * {p, end}; qc_wr_* calls return 0 or QC_ERR_NOBUF without writing.
 */
#ifndef QC_VARINT_H
#define QC_VARINT_H

#include "core/common.h"

typedef struct qc_rd {
    const uint8_t *p, *end;
} qc_rd;

typedef struct qc_wr {
    uint8_t *p, *end;
} qc_wr;

static inline qc_rd qc_rd_init(const uint8_t *buf, size_t len) {
    qc_rd r = {buf, buf + len};
    return r;
}
static inline qc_wr qc_wr_init(uint8_t *buf, size_t cap) {
    qc_wr w = {buf, buf + cap};
    return w;
}
static inline size_t qc_rd_left(const qc_rd *r) {
    return (size_t)(r->end - r->p);
}
static inline size_t qc_wr_left(const qc_wr *w) {
    return (size_t)(w->end - w->p);
}

/* Encoded length of v (1, 2, 4 or 8); 0 if v > QC_MAX_VARINT. */
static inline size_t qc_varint_len(uint64_t v) {
    if (v < 64) return 1;
    if (v < 16384) return 2;
    if (v < 1073741824) return 4;
    if (v <= QC_MAX_VARINT) return 8;
    return 0;
}

/* Writes v in exactly n bytes (n >= qc_varint_len(v)); returns p + n. */
static inline uint8_t *qc_varint_put_n(uint8_t *p, uint64_t v, size_t n) {
    static const uint8_t prefix[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
    for (size_t i = n; i-- > 0;) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
    p[0] |= prefix[n];
    return p + n;
}

/* Writes v in its shortest form; returns the end. v must be <= QC_MAX_VARINT. */
static inline uint8_t *qc_varint_put(uint8_t *p, uint64_t v) {
    return qc_varint_put_n(p, v, qc_varint_len(v));
}

/* Decodes one varint; sets *len to its length (so callers can check minimal encoding). */
static inline int qc_rd_varint_len(qc_rd *r, uint64_t *v, size_t *len) {
    if (r->p >= r->end) return QC_ERR_DECODE;
    size_t n = (size_t)1 << (r->p[0] >> 6);
    if (qc_rd_left(r) < n) return QC_ERR_DECODE;
    uint64_t x = r->p[0] & 0x3f;
    for (size_t i = 1; i < n; i++)
        x = (x << 8) | r->p[i];
    r->p += n;
    *v = x;
    if (len) *len = n;
    return 0;
}
static inline int qc_rd_varint(qc_rd *r, uint64_t *v) {
    return qc_rd_varint_len(r, v, NULL);
}

static inline int qc_rd_u8(qc_rd *r, uint8_t *v) {
    if (r->p >= r->end) return QC_ERR_DECODE;
    *v = *r->p++;
    return 0;
}
static inline int qc_rd_u16(qc_rd *r, uint16_t *v) {
    if (qc_rd_left(r) < 2) return QC_ERR_DECODE;
    *v = (uint16_t)((r->p[0] << 8) | r->p[1]);
    r->p += 2;
    return 0;
}
static inline int qc_rd_u32(qc_rd *r, uint32_t *v) {
    if (qc_rd_left(r) < 4) return QC_ERR_DECODE;
    *v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) | ((uint32_t)r->p[2] << 8) | r->p[3];
    r->p += 4;
    return 0;
}
/* Takes n bytes: *out points into the input (no copy). */
static inline int qc_rd_bytes(qc_rd *r, size_t n, const uint8_t **out) {
    if (qc_rd_left(r) < n) return QC_ERR_DECODE;
    *out = r->p;
    r->p += n;
    return 0;
}
static inline int qc_rd_copy(qc_rd *r, void *dst, size_t n) {
    if (qc_rd_left(r) < n) return QC_ERR_DECODE;
    memcpy(dst, r->p, n);
    r->p += n;
    return 0;
}

static inline int qc_wr_varint(qc_wr *w, uint64_t v) {
    size_t n = qc_varint_len(v);
    if (n == 0) return QC_ERR_INVAL;
    if (qc_wr_left(w) < n) return QC_ERR_NOBUF;
    w->p = qc_varint_put_n(w->p, v, n);
    return 0;
}
static inline int qc_wr_u8(qc_wr *w, uint8_t v) {
    if (w->p >= w->end) return QC_ERR_NOBUF;
    *w->p++ = v;
    return 0;
}
static inline int qc_wr_u16(qc_wr *w, uint16_t v) {
    if (qc_wr_left(w) < 2) return QC_ERR_NOBUF;
    w->p[0] = (uint8_t)(v >> 8);
    w->p[1] = (uint8_t)v;
    w->p += 2;
    return 0;
}
static inline int qc_wr_u32(qc_wr *w, uint32_t v) {
    if (qc_wr_left(w) < 4) return QC_ERR_NOBUF;
    w->p[0] = (uint8_t)(v >> 24);
    w->p[1] = (uint8_t)(v >> 16);
    w->p[2] = (uint8_t)(v >> 8);
    w->p[3] = (uint8_t)v;
    w->p += 4;
    return 0;
}
static inline int qc_wr_bytes(qc_wr *w, const void *src, size_t n) {
    if (qc_wr_left(w) < n) return QC_ERR_NOBUF;
    if (n) memcpy(w->p, src, n);
    w->p += n;
    return 0;
}

#endif
