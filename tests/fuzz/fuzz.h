/*
 * fuzz.h: what every fuzz target shares. Each tests/fuzz/fuzz_X.c defines
 * LLVMFuzzerTestOneInput and is built two ways: with libFuzzer (clang,
 * -DQUICC_FUZZ=ON: coverage-guided runs by `make fuzz`) and with replay.c
 * (any compiler: the ctest entry corpus_fuzz_X feeds every file of
 * tests/fuzz/corpus/X to the target, so the corpus is a regression suite).
 *
 * A target reports a bug by calling FZ_CHECK, which aborts: libFuzzer and
 * the replay driver both treat an abort as a failure and name the input.
 */
#ifndef QC_FUZZ_H
#define QC_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A cursor over the fuzz input; reads past the end return zeros. */
typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

static inline uint8_t fz_u8(fz_in *in) {
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fz_u16(fz_in *in) {
    uint16_t hi = fz_u8(in);
    return (uint16_t)(hi << 8 | fz_u8(in));
}

static inline uint64_t fz_u64(fz_in *in) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | fz_u8(in);
    return v;
}

/* Up to want bytes from the input (fewer at its end); *out points at them. */
static inline size_t fz_bytes(fz_in *in, size_t want, const uint8_t **out) {
    size_t n = want < in->n ? want : in->n;
    *out = in->p;
    in->p += n;
    in->n -= n;
    return n;
}

/* A heap copy of exactly n bytes, so that ASan sees any read past the input. */
static inline uint8_t *fz_dup(const uint8_t *p, size_t n) {
    uint8_t *c = malloc(n ? n : 1);
    FZ_CHECK(c != NULL);
    if (n) memcpy(c, p, n);
    return c;
}

#endif
