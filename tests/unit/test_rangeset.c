/* Unit tests for rangeset.c. */
#include "core/rangeset.h"
#include "unit/test.h"

static void check_ranges(const qc_rangeset *s, const uint64_t *expect, size_t n) {
    CHECK_EQ(s->n, n);
    for (size_t i = 0; i < n && i < s->n; i++) {
        CHECK_U64(s->r[i].lo, expect[2 * i]);
        CHECK_U64(s->r[i].hi, expect[2 * i + 1]);
    }
}

static void test_add_merge(void) {
    qc_rangeset s;
    qc_rangeset_init(&s, 0);
    CHECK_EQ(qc_rangeset_add(&s, 10, 20), 0);
    CHECK_EQ(qc_rangeset_add(&s, 30, 40), 0);
    CHECK_EQ(qc_rangeset_add(&s, 0, 2), 0);
    check_ranges(&s, (const uint64_t[]){0, 2, 10, 20, 30, 40}, 3);
    CHECK_EQ(qc_rangeset_add(&s, 21, 29), 0); /* bridges two ranges */
    check_ranges(&s, (const uint64_t[]){0, 2, 10, 40}, 2);
    CHECK_EQ(qc_rangeset_add(&s, 3, 9), 0);
    check_ranges(&s, (const uint64_t[]){0, 40}, 1);
    CHECK_EQ(qc_rangeset_add(&s, 5, 6), 0); /* duplicate */
    check_ranges(&s, (const uint64_t[]){0, 40}, 1);
    CHECK_EQ(qc_rangeset_add(&s, 41, 41), 0); /* adjacent append */
    check_ranges(&s, (const uint64_t[]){0, 41}, 1);
    CHECK_EQ(qc_rangeset_add(&s, 5, 4), QC_ERR_INVAL);
    qc_rangeset_free(&s);
}

static void test_remove_split(void) {
    qc_rangeset s;
    qc_rangeset_init(&s, 0);
    qc_rangeset_add(&s, 0, 100);
    CHECK_EQ(qc_rangeset_remove(&s, 10, 19), 0);
    check_ranges(&s, (const uint64_t[]){0, 9, 20, 100}, 2);
    CHECK_EQ(qc_rangeset_remove(&s, 5, 25), 0);
    check_ranges(&s, (const uint64_t[]){0, 4, 26, 100}, 2);
    CHECK(qc_rangeset_contains(&s, 4));
    CHECK(!qc_rangeset_contains(&s, 5));
    CHECK(qc_rangeset_contains(&s, 100));
    CHECK(!qc_rangeset_contains(&s, 101));
    CHECK_U64(qc_rangeset_gap_len(&s, 0, 30), 21);
    qc_rangeset_remove_below(&s, 50);
    check_ranges(&s, (const uint64_t[]){50, 100}, 1);
    CHECK_EQ(qc_rangeset_remove(&s, 0, 1000), 0);
    CHECK_EQ(s.n, 0);
    qc_rangeset_free(&s);
}

static void test_cap_drops_oldest(void) {
    qc_rangeset s;
    qc_rangeset_init(&s, 3);
    for (uint64_t v = 0; v < 10; v += 2)
        CHECK_EQ(qc_rangeset_add(&s, v, v), 0);
    check_ranges(&s, (const uint64_t[]){4, 4, 6, 6, 8, 8}, 3);
    CHECK_EQ(qc_rangeset_add(&s, 1, 1), 0); /* older than all kept: dropped */
    check_ranges(&s, (const uint64_t[]){4, 4, 6, 6, 8, 8}, 3);
    qc_rangeset_free(&s);
}

/* Random operations checked against a bitmap model. */
static void test_random_model(void) {
    enum { N = 512 };
    unsigned char model[N];
    memset(model, 0, sizeof(model));
    qc_rangeset s;
    qc_rangeset_init(&s, 0);
    uint32_t x = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        x = x * 1103515245u + 12345u;
        uint64_t a = (x >> 8) % N;
        x = x * 1103515245u + 12345u;
        uint64_t b = a + (x >> 8) % 16;
        if (b >= N) b = N - 1;
        bool add = (x >> 4) & 1;
        if (add)
            CHECK_EQ(qc_rangeset_add(&s, a, b), 0);
        else
            CHECK_EQ(qc_rangeset_remove(&s, a, b), 0);
        for (uint64_t v = a; v <= b; v++)
            model[v] = add;
    }
    for (uint64_t v = 0; v < N; v++)
        CHECK_EQ(qc_rangeset_contains(&s, v), model[v]);
    for (size_t i = 1; i < s.n; i++)
        CHECK(s.r[i - 1].hi + 1 < s.r[i].lo);
    qc_rangeset_free(&s);
}

int main(void) {
    TEST_RUN(test_add_merge);
    TEST_RUN(test_remove_split);
    TEST_RUN(test_cap_drops_oldest);
    TEST_RUN(test_random_model);
    return test_summary();
}
