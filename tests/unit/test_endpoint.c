/* Unit tests for endpoint.c: the decision for each kind of datagram, the caps, automatic and
 * forced Retry, tokens bypassing the caps, and the connection-ID table. */
#include "core/endpoint.h"
#include "tls/tls.h"
#include "unit/test.h"

static uint64_t rng = 7;
static void rnd(void *u, uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        b[i] = (uint8_t)(rng >> 56);
    }
}

static const uint8_t addr[] = {4, 127, 0, 0, 1};

static void init(qc_endpoint *ep, enum qc_retry_mode mode) {
    qc_endpoint_config cfg;
    qc_endpoint_config_default(&cfg);
    cfg.cp = &qc_gnutls_crypto;
    cfg.rand = rnd;
    cfg.retry = mode;
    cfg.retry_threshold = 2;
    cfg.max_pending = 3;
    cfg.max_conns = 5;
    CHECK_EQ(qc_endpoint_init(ep, &cfg), 0);
}

/* A client Initial of 1200 bytes of a version with the given DCID and token (payload is not
 * decrypted). */
static size_t initial_v(uint8_t *buf, uint32_t version, const qc_cid *dcid, const uint8_t *tok,
                        size_t tok_len) {
    qc_cid scid = {.len = 4, .id = {1, 2, 3, 4}};
    qc_pkt_out out = {.type = QC_PT_INITIAL,
                      .version = version,
                      .dcid = dcid,
                      .scid = &scid,
                      .token = tok,
                      .token_len = tok_len,
                      .pn = 0,
                      .pn_len = 1};
    size_t pn_off;
    size_t h = qc_pkt_write_hdr(buf, 1200, &out, &pn_off);
    memset(buf + h, 0, 1200 - h);
    qc_pkt_set_length(buf, pn_off, 1200 - pn_off);
    return 1200;
}

static size_t initial(uint8_t *buf, const qc_cid *dcid, const uint8_t *tok, size_t tok_len) {
    return initial_v(buf, QC_VERSION_1, dcid, tok, tok_len);
}

static void decide(qc_endpoint *ep, const uint8_t *dg, size_t len, qc_ep_decision *d,
                   uint8_t *out) {
    qc_endpoint_decide(ep, dg, len, addr, sizeof(addr), 10 * QC_SEC, out, 1500, d);
}

static void test_accept_and_route(void) {
    qc_endpoint ep;
    init(&ep, QC_RETRY_NEVER);
    uint8_t dg[1500], out[1500];
    qc_cid dcid = {.len = 8, .id = {9, 9, 9, 9, 9, 9, 9, 9}};
    qc_ep_decision d;
    decide(&ep, dg, initial(dg, &dcid, NULL, 0), &d, out);
    CHECK_EQ(d.action, QC_EP_ACCEPT);
    CHECK(qc_cid_eq(&d.hdr.dcid, &dcid));
    CHECK_EQ(d.scid.len, 8);
    CHECK(!d.validated);
    int conn = 1;
    qc_cid ours = d.scid;
    CHECK_EQ(qc_endpoint_add(&ep, &ours, &conn), 0);
    CHECK_EQ(qc_endpoint_add(&ep, &ours, &conn), QC_ERR_INVAL); /* no duplicates */
    CHECK_EQ(qc_endpoint_add(&ep, &dcid, &conn), 0);
    decide(&ep, dg, initial(dg, &dcid, NULL, 0), &d, out);
    CHECK_EQ(d.action, QC_EP_ROUTE); /* the client's repeated Initial */
    CHECK(d.conn == &conn);
    /* A short header to our ID routes too. */
    uint8_t sh[40] = {0x41};
    memcpy(sh + 1, ours.id, 8);
    decide(&ep, sh, sizeof(sh), &d, out);
    CHECK_EQ(d.action, QC_EP_ROUTE);
    /* Removing the connection forgets its IDs: a stateless reset follows. */
    qc_endpoint_remove_conn(&ep, &conn);
    CHECK(qc_endpoint_lookup(&ep, &ours) == NULL);
    decide(&ep, sh, sizeof(sh), &d, out);
    CHECK_EQ(d.action, QC_EP_REPLY);
    /* Too-short Initials and Initials with short DCIDs are dropped. */
    decide(&ep, dg, 1199, &d, out);
    CHECK_EQ(d.action, QC_EP_DROP);
    qc_cid tiny = {.len = 4, .id = {1, 1, 1, 1}};
    decide(&ep, dg, initial(dg, &tiny, NULL, 0), &d, out);
    CHECK_EQ(d.action, QC_EP_DROP);
    qc_endpoint_free(&ep);
}

static void test_caps_and_auto_retry(void) {
    qc_endpoint ep;
    init(&ep, QC_RETRY_AUTO);
    uint8_t dg[1500], out[1500];
    qc_ep_decision d;
    /* Below the threshold (2 pending): accepted. */
    for (int i = 0; i < 2; i++) {
        qc_cid dcid = {.len = 8, .id = {1, 2, 3, 4, 5, 6, 7, (uint8_t)i}};
        decide(&ep, dg, initial(dg, &dcid, NULL, 0), &d, out);
        CHECK_EQ(d.action, QC_EP_ACCEPT);
    }
    CHECK_EQ(ep.pending, 2);
    /* At the threshold: a Retry, stateless, carrying a token for this address. */
    qc_cid dcid = {.len = 8, .id = {7, 7, 7, 7, 7, 7, 7, 7}};
    decide(&ep, dg, initial(dg, &dcid, NULL, 0), &d, out);
    CHECK_EQ(d.action, QC_EP_REPLY);
    qc_pkt_hdr h;
    CHECK_EQ(qc_pkt_parse(out, d.reply_len, 8, &h), 0);
    CHECK_EQ(h.type, QC_PT_RETRY);
    uint8_t tag[16];
    CHECK_EQ(qc_retry_tag(&qc_gnutls_crypto, QC_VERSION_1, &dcid, out, d.reply_len - 16, tag), 0);
    CHECK_MEM(tag, h.retry_tag, 16);
    CHECK_EQ(ep.retry_sent, 1);
    /* The client comes back with the token to the Retry's SCID: accepted and validated, even
     * though the handshakes pending are at the threshold. */
    uint8_t tok[128];
    size_t tl = h.token_len;
    memcpy(tok, h.token, tl);
    qc_cid rscid = h.scid;
    decide(&ep, dg, initial(dg, &rscid, tok, tl), &d, out);
    CHECK_EQ(d.action, QC_EP_ACCEPT);
    CHECK(d.validated && d.has_odcid);
    CHECK(qc_cid_eq(&d.odcid, &dcid));
    CHECK(qc_cid_eq(&d.retry_scid, &rscid));
    /* The same token to another DCID is a misused Retry token. */
    decide(&ep, dg, initial(dg, &dcid, tok, tl), &d, out);
    CHECK_EQ(d.action, QC_EP_ACCEPT);
    CHECK(d.bad_token);
    /* The connection cap (5) refuses everything new. */
    qc_cid another = {.len = 8, .id = {5, 5, 5, 5, 5, 5, 5, 5}};
    decide(&ep, dg, initial(dg, &another, tok, tl), &d, out);
    CHECK_EQ(d.action, QC_EP_ACCEPT);
    CHECK_EQ(ep.conns, 5);
    decide(&ep, dg, initial(dg, &another, NULL, 0), &d, out);
    CHECK_EQ(d.action, QC_EP_DROP);
    /* Connections ending free their places. */
    qc_endpoint_established(&ep, addr, sizeof(addr));
    qc_endpoint_closed(&ep, false, addr, sizeof(addr));
    CHECK_EQ(ep.conns, 4);
    qc_endpoint_free(&ep);
}

static void test_never_retry_pending_cap(void) {
    qc_endpoint ep;
    init(&ep, QC_RETRY_NEVER);
    uint8_t dg[1500], out[1500];
    qc_ep_decision d;
    for (int i = 0; i < 3; i++) {
        qc_cid dcid = {.len = 8, .id = {3, 3, 3, 3, 3, 3, 3, (uint8_t)i}};
        decide(&ep, dg, initial(dg, &dcid, NULL, 0), &d, out);
        CHECK_EQ(d.action, QC_EP_ACCEPT);
        CHECK(!d.shed_oldest);
    }
    CHECK_EQ(qc_endpoint_pending_from(&ep, addr, sizeof(addr)), 3);
    /* At the cap (3 pending) with no Retry to fall back on: accepted, and the caller sheds
     * its oldest handshake to make room. */
    qc_cid dcid = {.len = 8, .id = {4, 4, 4, 4, 4, 4, 4, 4}};
    decide(&ep, dg, initial(dg, &dcid, NULL, 0), &d, out);
    CHECK_EQ(d.action, QC_EP_ACCEPT);
    CHECK(d.shed_oldest);
    CHECK_U64(ep.shed, 1);
    qc_endpoint_closed(&ep, true, addr, sizeof(addr)); /* the caller's shed */
    CHECK_EQ(ep.pending, 3);
    /* A NEW_TOKEN token proves the address, but a validated client is held to the cap too. */
    uint8_t tok[QC_TOKEN_MAX_LEN];
    int tl =
        qc_endpoint_new_token(&ep, addr, sizeof(addr), QC_VERSION_1, 5 * QC_SEC, tok, sizeof(tok));
    CHECK(tl > 0);
    decide(&ep, dg, initial(dg, &dcid, tok, (size_t)tl), &d, out);
    CHECK_EQ(d.action, QC_EP_ACCEPT);
    CHECK(d.validated && !d.has_odcid && d.shed_oldest);
    qc_endpoint_free(&ep);
}

/* One address holds a bounded number of handshake slots, validated or not: the others keep
 * theirs; the slots come back as handshakes complete or end. */
static void test_per_address_cap(void) {
    qc_endpoint ep;
    qc_endpoint_config cfg;
    qc_endpoint_config_default(&cfg);
    cfg.cp = &qc_gnutls_crypto;
    cfg.rand = rnd;
    cfg.retry = QC_RETRY_AUTO;
    cfg.max_pending_per_addr = 4;
    CHECK_EQ(qc_endpoint_init(&ep, &cfg), 0);
    uint8_t dg[1500], out[1500];
    qc_ep_decision d;
    static const uint8_t flood[] = {4, 127, 0, 0, 2}, good[] = {4, 127, 0, 0, 1};
    uint8_t tok[QC_TOKEN_MAX_LEN];
    int tl =
        qc_endpoint_new_token(&ep, flood, sizeof(flood), QC_VERSION_1, QC_SEC, tok, sizeof(tok));
    CHECK(tl > 0);
    for (int i = 0; i < 10; i++) {
        qc_cid dcid = {.len = 8, .id = {9, 9, 9, 9, 9, 9, 9, (uint8_t)i}};
        /* Validated by a token, or not: the same cap. */
        qc_endpoint_decide(&ep, dg, initial(dg, &dcid, i % 2 ? tok : NULL, i % 2 ? (size_t)tl : 0),
                           flood, sizeof(flood), 2 * QC_SEC, out, sizeof(out), &d);
        CHECK_EQ(d.action, i < 4 ? QC_EP_ACCEPT : QC_EP_DROP);
    }
    CHECK_EQ(qc_endpoint_pending_from(&ep, flood, sizeof(flood)), 4);
    CHECK(d.why != NULL && strstr(d.why, "one address") != NULL);
    qc_cid dcid = {.len = 8, .id = {1, 1, 1, 1, 1, 1, 1, 1}};
    qc_endpoint_decide(&ep, dg, initial(dg, &dcid, NULL, 0), good, sizeof(good), 2 * QC_SEC, out,
                       sizeof(out), &d);
    CHECK_EQ(d.action, QC_EP_ACCEPT);
    /* One of the flood's handshakes completes, another is abandoned: two slots come back. */
    qc_endpoint_established(&ep, flood, sizeof(flood));
    qc_endpoint_closed(&ep, true, flood, sizeof(flood));
    CHECK_EQ(qc_endpoint_pending_from(&ep, flood, sizeof(flood)), 2);
    qc_cid again = {.len = 8, .id = {8, 8, 8, 8, 8, 8, 8, 8}};
    qc_endpoint_decide(&ep, dg, initial(dg, &again, NULL, 0), flood, sizeof(flood), 2 * QC_SEC, out,
                       sizeof(out), &d);
    CHECK_EQ(d.action, QC_EP_ACCEPT);
    CHECK_EQ(qc_endpoint_pending_from(&ep, flood, sizeof(flood)), 3);
    qc_endpoint_free(&ep);
}

/* Versions: a v2 Initial is accepted by default; an endpoint without v2 answers it with
 * Version Negotiation listing its versions; tokens and Retry are bound to the version. */
static void test_versions(void) {
    qc_endpoint ep;
    init(&ep, QC_RETRY_ALWAYS);
    uint8_t dg[1500], out[1500];
    qc_cid dcid = {.len = 8, .id = {7, 7, 7, 7, 7, 7, 7, 7}};
    qc_ep_decision d;
    /* Retry in the client's version (v2: Type bits 00). */
    decide(&ep, dg, initial_v(dg, QC_VERSION_2, &dcid, NULL, 0), &d, out);
    CHECK_EQ(d.action, QC_EP_REPLY);
    qc_pkt_hdr h;
    CHECK_EQ(qc_pkt_parse(out, d.reply_len, 8, &h), 0);
    CHECK_EQ(h.type, QC_PT_RETRY);
    CHECK_U64(h.version, QC_VERSION_2);
    CHECK_EQ(out[0] & 0x30, 0x00);
    uint8_t tag[16];
    CHECK_EQ(qc_retry_tag(&qc_gnutls_crypto, QC_VERSION_2, &dcid, out, d.reply_len - 16, tag), 0);
    CHECK_MEM(tag, out + d.reply_len - 16, 16);
    /* Its token validates a v2 Initial, not a v1 one (which gets a new Retry). */
    uint8_t tok[QC_TOKEN_MAX_LEN];
    memcpy(tok, h.token, h.token_len);
    size_t tl = h.token_len;
    qc_cid rscid = h.scid;
    decide(&ep, dg, initial_v(dg, QC_VERSION_1, &rscid, tok, tl), &d, out);
    CHECK_EQ(d.action, QC_EP_REPLY);
    decide(&ep, dg, initial_v(dg, QC_VERSION_2, &rscid, tok, tl), &d, out);
    CHECK_EQ(d.action, QC_EP_ACCEPT);
    CHECK(d.validated && d.has_odcid);
    /* NEW_TOKEN tokens likewise. */
    int ntl =
        qc_endpoint_new_token(&ep, addr, sizeof(addr), QC_VERSION_2, 5 * QC_SEC, tok, sizeof(tok));
    CHECK(ntl > 0);
    qc_cid d2 = {.len = 8, .id = {6, 6, 6, 6, 6, 6, 6, 6}};
    decide(&ep, dg, initial_v(dg, QC_VERSION_1, &d2, tok, (size_t)ntl), &d, out);
    CHECK_EQ(d.action, QC_EP_REPLY); /* not validated: Retry */
    decide(&ep, dg, initial_v(dg, QC_VERSION_2, &d2, tok, (size_t)ntl), &d, out);
    CHECK_EQ(d.action, QC_EP_ACCEPT);
    CHECK(d.validated && !d.has_odcid);
    qc_endpoint_free(&ep);
    /* An endpoint of v1 only: Version Negotiation for v2, listing v1 and a greased version. */
    qc_endpoint_config cfg;
    qc_endpoint_config_default(&cfg);
    cfg.cp = &qc_gnutls_crypto;
    cfg.rand = rnd;
    cfg.versions = (qc_version_list){{QC_VERSION_1}, 1};
    CHECK_EQ(qc_endpoint_init(&ep, &cfg), 0);
    decide(&ep, dg, initial_v(dg, QC_VERSION_2, &dcid, NULL, 0), &d, out);
    CHECK_EQ(d.action, QC_EP_REPLY);
    CHECK_EQ(qc_pkt_parse(out, d.reply_len, 8, &h), 0);
    CHECK_EQ(h.type, QC_PT_VN);
    CHECK_EQ(h.vn_count, 2);
    static const uint8_t v1[] = {0, 0, 0, 1};
    CHECK_MEM(h.vn_versions, v1, 4);
    CHECK_EQ(h.vn_versions[4] & 0x0f, 0x0a);
    CHECK_U64(ep.vn_sent, 1);
    decide(&ep, dg, initial_v(dg, QC_VERSION_1, &dcid, NULL, 0), &d, out);
    CHECK_EQ(d.action, QC_EP_ACCEPT);
    qc_endpoint_free(&ep);
}

int main(void) {
    TEST_RUN(test_accept_and_route);
    TEST_RUN(test_caps_and_auto_retry);
    TEST_RUN(test_never_retry_pending_cap);
    TEST_RUN(test_per_address_cap);
    TEST_RUN(test_versions);
    return test_summary();
}
