/* Unit tests for cid.c: issuing, NEW_CONNECTION_ID / RETIRE_CONNECTION_ID rules, and
 * stateless reset detection. */
#include "core/cid.h"
#include "unit/test.h"

static qc_cid mk_cid(uint8_t len, uint8_t fillv) {
    qc_cid c;
    memset(&c, 0, sizeof(c));
    c.len = len;
    memset(c.id, fillv, len);
    return c;
}

static void mk_token(uint8_t *t, uint8_t v) {
    for (int i = 0; i < 16; i++)
        t[i] = (uint8_t)(v + i);
}

static size_t peer_active(const qc_cids *c) {
    size_t n = 0;
    for (size_t i = 0; i < QC_CID_SLOTS; i++)
        n += c->peer[i].in_use;
    return n;
}

static bool peer_has_seq(const qc_cids *c, uint64_t seq) {
    for (size_t i = 0; i < QC_CID_SLOTS; i++)
        if (c->peer[i].in_use && c->peer[i].seq == seq) return true;
    return false;
}

static void init_pair(qc_cids *c) {
    qc_cid l0 = mk_cid(8, 0xa0), p0 = mk_cid(8, 0xb0);
    qc_cids_init(c, &l0, &p0);
}

static void test_init_and_issue(void) {
    qc_cids c;
    init_pair(&c);
    qc_cid l0 = mk_cid(8, 0xa0), p0 = mk_cid(8, 0xb0);
    CHECK(qc_cids_is_local(&c, &l0));
    CHECK(!qc_cids_is_local(&c, &p0));
    CHECK(qc_cid_eq(qc_cids_peer_current(&c), &p0));
    CHECK_U64(c.peer_limit, 2);
    CHECK_U64(c.local_next_seq, 1);
    uint8_t tok[16];
    mk_token(tok, 1);
    qc_cid l1 = mk_cid(8, 0xa1), l2 = mk_cid(8, 0xa2);
    qc_cid_entry *e = qc_cids_issue(&c, &l1, tok);
    CHECK(e != NULL);
    if (e) {
        CHECK_U64(e->seq, 1);
        CHECK(qc_cid_eq(&e->cid, &l1));
        CHECK_MEM(e->token, tok, 16);
        CHECK(e->has_token && e->in_use && !e->sent && !e->retired);
    }
    CHECK(qc_cids_is_local(&c, &l1));
    /* The peer's default limit of 2 is reached. */
    CHECK(qc_cids_issue(&c, &l2, tok) == NULL);
    c.peer_limit = 100; /* our own storage is the bound now */
    for (uint8_t i = 2; i < QC_CID_SLOTS; i++) {
        qc_cid x = mk_cid(8, (uint8_t)(0xa0 + i));
        e = qc_cids_issue(&c, &x, tok);
        CHECK(e != NULL);
        if (e) CHECK_U64(e->seq, i);
    }
    CHECK(qc_cids_issue(&c, &l2, tok) == NULL);
    /* Retirement frees a slot; seq numbers keep growing. */
    CHECK_EQ(qc_cids_on_retire(&c, 1, &l0), 0);
    CHECK(!qc_cids_is_local(&c, &l1));
    qc_cid l9 = mk_cid(8, 0xa9);
    e = qc_cids_issue(&c, &l9, tok);
    CHECK(e != NULL);
    if (e) CHECK_U64(e->seq, QC_CID_SLOTS);
}

static void test_retire(void) {
    qc_cids c;
    init_pair(&c);
    uint8_t tok[16];
    mk_token(tok, 1);
    qc_cid l0 = mk_cid(8, 0xa0), l1 = mk_cid(8, 0xa1);
    CHECK(qc_cids_issue(&c, &l1, tok) != NULL);
    CHECK_EQ(qc_cids_on_retire(&c, 2, &l0), QC_ERR_PROTO); /* never issued */
    CHECK_EQ(qc_cids_on_retire(&c, 1000, &l0), QC_ERR_PROTO);
    CHECK_EQ(qc_cids_on_retire(&c, 1, &l1), QC_ERR_PROTO); /* the packet's own DCID */
    CHECK(qc_cids_is_local(&c, &l1));
    CHECK_EQ(qc_cids_on_retire(&c, 0, &l1), 0);
    CHECK(!qc_cids_is_local(&c, &l0));
    CHECK(c.local[0].retired && !c.local[0].in_use);
    CHECK_EQ(qc_cids_on_retire(&c, 0, &l1), 0); /* repeat: fine */
}

static void test_new_cid(void) {
    qc_cids c;
    init_pair(&c);
    uint8_t t1[16], t2[16], t3[16];
    mk_token(t1, 10);
    mk_token(t2, 20);
    mk_token(t3, 30);
    qc_cid p0 = mk_cid(8, 0xb0), p1 = mk_cid(8, 0xb1), p2 = mk_cid(4, 0xb2);
    CHECK_EQ(qc_cids_on_new(&c, 1, 0, &p1, t1), 0);
    CHECK_EQ(peer_active(&c), 2);
    CHECK(qc_cid_eq(qc_cids_peer_current(&c), &p0));
    /* Exact duplicate: fine, nothing changes. */
    CHECK_EQ(qc_cids_on_new(&c, 1, 0, &p1, t1), 0);
    CHECK_EQ(peer_active(&c), 2);
    /* Same seq, different ID or token. */
    CHECK_EQ(qc_cids_on_new(&c, 1, 0, &p2, t1), QC_ERR_PROTO);
    CHECK_EQ(qc_cids_on_new(&c, 1, 0, &p1, t2), QC_ERR_PROTO);
    /* Same ID under another seq. */
    CHECK_EQ(qc_cids_on_new(&c, 2, 0, &p1, t2), QC_ERR_PROTO);
    /* Malformed: retire_prior_to > seq, bad lengths. */
    CHECK_EQ(qc_cids_on_new(&c, 2, 3, &p2, t2), QC_ERR_FRAME_ENCODING);
    qc_cid bad = mk_cid(0, 0);
    CHECK_EQ(qc_cids_on_new(&c, 2, 0, &bad, t2), QC_ERR_FRAME_ENCODING);
    bad.len = 21;
    CHECK_EQ(qc_cids_on_new(&c, 2, 0, &bad, t2), QC_ERR_FRAME_ENCODING);
    CHECK_EQ(peer_active(&c), 2);
    /* retire_prior_to = 2 retires 0 and 1 and moves to the new ID. */
    CHECK_EQ(qc_cids_on_new(&c, 2, 2, &p2, t2), 0);
    CHECK_EQ(peer_active(&c), 1);
    CHECK(peer_has_seq(&c, 2));
    CHECK(qc_cid_eq(qc_cids_peer_current(&c), &p2));
    CHECK_U64(c.peer_retire_prior_to, 2);
    CHECK_EQ(c.nretire, 2);
    CHECK(c.nretire == 2 && ((c.retire_pending[0] == 0 && c.retire_pending[1] == 1) ||
                             (c.retire_pending[0] == 1 && c.retire_pending[1] == 0)));
    /* A late NEW_CONNECTION_ID below retire_prior_to: retired at once, not stored. */
    qc_cid p1b = mk_cid(8, 0xc1);
    c.nretire = 0;
    CHECK_EQ(qc_cids_on_new(&c, 1, 0, &p1b, t3), 0);
    CHECK_EQ(c.nretire, 1);
    CHECK_U64(c.retire_pending[0], 1);
    CHECK_EQ(peer_active(&c), 1);
    CHECK_EQ(qc_cids_on_new(&c, 1, 0, &p1b, t3), 0); /* queued once */
    CHECK_EQ(c.nretire, 1);
    /* A lower retire_prior_to than before changes nothing. */
    qc_cid p3 = mk_cid(8, 0xb3);
    CHECK_EQ(qc_cids_on_new(&c, 3, 1, &p3, t3), 0);
    CHECK_U64(c.peer_retire_prior_to, 2);
    CHECK_EQ(peer_active(&c), 2);
    CHECK(qc_cid_eq(qc_cids_peer_current(&c), &p2));
}

static void test_cid_limit(void) {
    qc_cids c;
    init_pair(&c);
    uint8_t t[16];
    for (uint64_t seq = 1; seq < QC_CID_SLOTS; seq++) {
        qc_cid x = mk_cid(8, (uint8_t)(0xd0 + seq));
        mk_token(t, (uint8_t)seq);
        CHECK_EQ(qc_cids_on_new(&c, seq, 0, &x, t), 0);
    }
    CHECK_EQ(peer_active(&c), QC_CID_SLOTS);
    qc_cid over = mk_cid(8, 0xee);
    mk_token(t, 0xee);
    CHECK_EQ(qc_cids_on_new(&c, QC_CID_SLOTS, 0, &over, t), QC_ERR_CID_LIMIT);
    /* Retiring in the same frame makes room. */
    CHECK_EQ(qc_cids_on_new(&c, QC_CID_SLOTS, 1, &over, t), 0);
    CHECK_EQ(peer_active(&c), QC_CID_SLOTS);
    CHECK(!peer_has_seq(&c, 0));
    CHECK_EQ(c.nretire, 1);
    CHECK_U64(c.retire_pending[0], 0);
    /* Current moved to the lowest remaining seq. */
    qc_cid x1 = mk_cid(8, 0xd1);
    CHECK(qc_cid_eq(qc_cids_peer_current(&c), &x1));
}

/* Too many retirements waiting to be sent is a CONNECTION_ID_LIMIT_ERROR. */
static void test_retire_queue_limit(void) {
    qc_cids c;
    init_pair(&c);
    uint8_t t[16];
    qc_cid x = mk_cid(8, 0x10);
    mk_token(t, 1);
    CHECK_EQ(qc_cids_on_new(&c, 100, 100, &x, t), 0);
    CHECK_EQ(c.nretire, 1); /* seq 0 */
    for (uint64_t seq = 1; seq < QC_CID_SLOTS; seq++) {
        qc_cid y = mk_cid(8, (uint8_t)(0x20 + seq));
        CHECK_EQ(qc_cids_on_new(&c, seq, 0, &y, t), 0);
    }
    CHECK_EQ(c.nretire, QC_CID_SLOTS);
    qc_cid z = mk_cid(8, 0x7f);
    CHECK_EQ(qc_cids_on_new(&c, 50, 0, &z, t), QC_ERR_CID_LIMIT);
}

/* A peer that uses zero-length IDs cannot send NEW_CONNECTION_ID. */
static void test_zero_len_peer(void) {
    qc_cids c;
    qc_cid l0 = mk_cid(8, 1), p0 = mk_cid(0, 0);
    qc_cids_init(&c, &l0, &p0);
    uint8_t t[16];
    mk_token(t, 1);
    qc_cid x = mk_cid(8, 2);
    CHECK_EQ(qc_cids_on_new(&c, 1, 0, &x, t), QC_ERR_PROTO);
}

static void test_stateless_reset(void) {
    qc_cids c;
    init_pair(&c);
    uint8_t t0[16], t1[16], t2[16];
    mk_token(t0, 0x40);
    mk_token(t1, 0x50);
    mk_token(t2, 0x60);
    uint8_t dg[64];
    memset(dg, 0x33, sizeof(dg));
    memcpy(dg + sizeof(dg) - 16, t0, 16);
    CHECK(!qc_cids_is_stateless_reset(&c, dg, sizeof(dg))); /* token not known yet */
    qc_cids_set_peer_token(&c, t0);
    CHECK(qc_cids_is_stateless_reset(&c, dg, sizeof(dg)));
    /* Length bounds: the token must be the tail of at least 21 bytes. */
    memcpy(dg + 21 - 16, t0, 16);
    CHECK(qc_cids_is_stateless_reset(&c, dg, 21));
    memcpy(dg + 20 - 16, t0, 16);
    CHECK(!qc_cids_is_stateless_reset(&c, dg, 20));
    CHECK(!qc_cids_is_stateless_reset(&c, dg, 0));
    /* One byte off. */
    memcpy(dg + sizeof(dg) - 16, t0, 16);
    dg[sizeof(dg) - 1] ^= 1;
    CHECK(!qc_cids_is_stateless_reset(&c, dg, sizeof(dg)));
    /* A token from NEW_CONNECTION_ID. */
    qc_cid p1 = mk_cid(8, 0xb1), p2 = mk_cid(8, 0xb2);
    CHECK_EQ(qc_cids_on_new(&c, 1, 0, &p1, t1), 0);
    memcpy(dg + sizeof(dg) - 16, t1, 16);
    CHECK(qc_cids_is_stateless_reset(&c, dg, sizeof(dg)));
    memcpy(dg + sizeof(dg) - 16, t2, 16);
    CHECK(!qc_cids_is_stateless_reset(&c, dg, sizeof(dg)));
    /* Retired IDs' tokens no longer count. */
    CHECK_EQ(qc_cids_on_new(&c, 2, 2, &p2, t2), 0);
    CHECK(qc_cids_is_stateless_reset(&c, dg, sizeof(dg)));
    memcpy(dg + sizeof(dg) - 16, t0, 16);
    CHECK(!qc_cids_is_stateless_reset(&c, dg, sizeof(dg)));
    memcpy(dg + sizeof(dg) - 16, t1, 16);
    CHECK(!qc_cids_is_stateless_reset(&c, dg, sizeof(dg)));
}

int main(void) {
    TEST_RUN(test_init_and_issue);
    TEST_RUN(test_retire);
    TEST_RUN(test_new_cid);
    TEST_RUN(test_cid_limit);
    TEST_RUN(test_retire_queue_limit);
    TEST_RUN(test_zero_len_peer);
    TEST_RUN(test_stateless_reset);
    return test_summary();
}
