/*
 * test.h: the minimal harness every unit and simulator test uses. A test
 * program defines test functions, lists them in main() with TEST_RUN, and
 * returns test_summary(); CHECK* macros print both operands on failure.
 */
#ifndef QC_TEST_H
#define QC_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures_;
static int test_passed_;
static int test_failed_;
static const char *test_current_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, test_current_,    \
                    #cond);                                                                        \
            test_failures_++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long ca_ = (long long)(a), cb_ = (long long)(b);                                      \
        if (ca_ != cb_) {                                                                          \
            fprintf(stderr, "%s:%d: %s: CHECK_EQ(%s, %s) failed: %lld != %lld\n", __FILE__,        \
                    __LINE__, test_current_, #a, #b, ca_, cb_);                                    \
            test_failures_++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_U64(a, b)                                                                            \
    do {                                                                                           \
        unsigned long long ca_ = (unsigned long long)(a), cb_ = (unsigned long long)(b);           \
        if (ca_ != cb_) {                                                                          \
            fprintf(stderr, "%s:%d: %s: CHECK_U64(%s, %s) failed: 0x%llx != 0x%llx\n", __FILE__,   \
                    __LINE__, test_current_, #a, #b, ca_, cb_);                                    \
            test_failures_++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_MEM(a, b, n)                                                                         \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0) {                                                          \
            fprintf(stderr, "%s:%d: %s: CHECK_MEM(%s, %s, %s) failed\n", __FILE__, __LINE__,       \
                    test_current_, #a, #b, #n);                                                    \
            test_failures_++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                                               \
            fprintf(stderr, "%s:%d: %s: CHECK_STR(%s, %s) failed: \"%s\" != \"%s\"\n", __FILE__,   \
                    __LINE__, test_current_, #a, #b, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");  \
            test_failures_++;                                                                      \
        }                                                                                          \
    } while (0)

#define TEST_RUN(fn)                                                                               \
    do {                                                                                           \
        int before_ = test_failures_;                                                              \
        test_current_ = #fn;                                                                       \
        fn();                                                                                      \
        if (test_failures_ == before_) {                                                           \
            test_passed_++;                                                                        \
        } else {                                                                                   \
            test_failed_++;                                                                        \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        }                                                                                          \
    } while (0)

static inline int test_summary(void) {
    printf("%d passed, %d failed\n", test_passed_, test_failed_);
    return test_failed_ ? 1 : 0;
}

/* Hex string to bytes; returns the byte count. Spaces are skipped. */
static inline size_t test_unhex(const char *hex, unsigned char *out, size_t cap) {
    size_t n = 0;
    while (*hex && n < cap) {
        if (*hex == ' ' || *hex == '\n') {
            hex++;
            continue;
        }
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1) break;
        out[n++] = (unsigned char)v;
        hex += 2;
    }
    return n;
}

#endif
