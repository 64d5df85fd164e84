/* Unit tests for version.c and the v2 parts of crypto.c, packet.c and keys.c: every
 * sample of RFC 9369 Appendix A (keys, client and server Initial, Retry, ChaCha20 short
 * header), the v2 packet types, version lists and the server's choice, and a key schedule
 * moving from v1 to v2 while keeping v1's Initial receive keys. */
#include "core/crypto.h"
#include "core/keys.h"
#include "core/packet.h"
#include "core/version.h"
#include "tls/tls.h"
#include "unit/rfc_vectors.h"
#include "unit/test.h"

static const qc_crypto_provider *cp = &qc_gnutls_crypto;
#define V2 qc_version_find(QC_VERSION_2)

static const char *client_packet =
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc";
static const char *server_packet =
    "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698"
    "baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17"
    "f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2"
    "c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8"
    "4bed8521e2e140";

static qc_cid sample_dcid(void) {
    qc_cid d = {.len = 8};
    test_unhex("8394c8f03e515708", d.id, 8);
    return d;
}

static void expand(const uint8_t *secret, const char *label, size_t n, const char *hex) {
    uint8_t out[64], want[64];
    CHECK_EQ(cp->hkdf_expand_label(QC_SUITE_AES_128_GCM_SHA256, secret, 32, label, out, n), 0);
    CHECK_EQ(test_unhex(hex, want, sizeof(want)), n);
    CHECK_MEM(out, want, n);
}

/* A.1: Initial secrets and the keys, IVs and HP keys derived with the v2 labels. */
static void test_keys(void) {
    qc_cid d = sample_dcid();
    uint8_t cs[32], ss[32], want[32];
    CHECK_EQ(qc_initial_secrets(cp, QC_VERSION_2, &d, cs, ss), 0);
    test_unhex("14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b", want, 32);
    CHECK_MEM(cs, want, 32);
    test_unhex("0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1", want, 32);
    CHECK_MEM(ss, want, 32);
    const qc_version *v = V2;
    expand(cs, v->label_key, 16, "8b1a0bc121284290a29e0971b5cd045d");
    expand(cs, v->label_iv, 12, "91f73e2351d8fa91660e909f");
    expand(cs, v->label_hp, 16, "45b95e15235d6f45a6b19cbcb0294ba9");
    expand(ss, v->label_key, 16, "82db637861d55e1d011f19ea71d5d2a7");
    expand(ss, v->label_iv, 12, "dd13c276499c0249d3310652");
    expand(ss, v->label_hp, 16, "edf6d05c83121201b436e16877593c3a");
    qc_keys k;
    CHECK_EQ(qc_keys_from_secret(cp, &k, v, QC_SUITE_AES_128_GCM_SHA256, cs, 32), 0);
    test_unhex("91f73e2351d8fa91660e909f", want, 12);
    CHECK_MEM(k.iv, want, 12);
    CHECK(k.ver == v);
    qc_keys_clear(cp, &k);
    /* The draft's salt gives other secrets than v1's and v2's. */
    uint8_t ds[32], dss[32];
    CHECK_EQ(qc_initial_secrets(cp, QC_VERSION_2_DRAFT, &d, ds, dss), 0);
    CHECK(memcmp(ds, cs, 32) != 0);
}

/* Protects hdr+payload with k, compares with the sample, then opens it again. */
static void protect_open(qc_keys *k, const char *hdr_hex, size_t pn_offset, uint64_t pn,
                         const uint8_t *payload, size_t plen, const char *expect_hex) {
    uint8_t pkt[1600], expect[1600], orig[1600];
    size_t hlen = test_unhex(hdr_hex, pkt, sizeof(pkt));
    memcpy(pkt + hlen, payload, plen);
    memcpy(orig, pkt, hlen + plen);
    size_t elen = test_unhex(expect_hex, expect, sizeof(expect));
    CHECK_EQ(hlen + plen + 16, elen);
    CHECK_EQ(qc_packet_protect(cp, k, pkt, pn_offset, hlen - pn_offset, pn, plen), 0);
    CHECK_MEM(pkt, expect, elen);
    uint64_t tpn;
    size_t pnl;
    uint8_t *out;
    size_t olen;
    CHECK_EQ(qc_packet_unprotect_header(cp, k, pkt, elen, pn_offset, &tpn, &pnl), 0);
    CHECK_EQ(pnl, hlen - pn_offset);
    CHECK_EQ(qc_packet_decrypt(cp, k, pkt, elen, hlen, pn, &out, &olen), 0);
    CHECK_EQ(olen, plen);
    CHECK_MEM(pkt, orig, hlen + plen);
}

static void initial_keys(qc_keys *client, qc_keys *server) {
    qc_cid d = sample_dcid();
    uint8_t cs[32], ss[32];
    CHECK_EQ(qc_initial_secrets(cp, QC_VERSION_2, &d, cs, ss), 0);
    CHECK_EQ(qc_keys_from_secret(cp, client, V2, QC_SUITE_AES_128_GCM_SHA256, cs, 32), 0);
    CHECK_EQ(qc_keys_from_secret(cp, server, V2, QC_SUITE_AES_128_GCM_SHA256, ss, 32), 0);
}

/* A.2 and A.3: the client's Initial (padded to 1162 bytes of frames, pn 2) and the
 * server's (pn 1 in 2 bytes); the parser reads both as Initial packets of v2. */
static void test_initials(void) {
    qc_keys c, s;
    initial_keys(&c, &s);
    uint8_t payload[1162] = {0};
    test_unhex(rfc_client_crypto, payload, sizeof(payload));
    protect_open(&c, "d36b3343cf088394c8f03e5157080000449e00000002", 18, 2, payload, 1162,
                 client_packet);
    uint8_t sp[200];
    size_t splen = test_unhex("02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
                              "88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
                              "0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
                              "020304",
                              sp, sizeof(sp));
    protect_open(&s, "d16b3343cf0008f067a5502a4262b50040750001", 18, 1, sp, splen, server_packet);
    uint8_t pkt[1300];
    size_t n = test_unhex(client_packet, pkt, sizeof(pkt));
    qc_pkt_hdr h;
    CHECK_EQ(qc_pkt_parse(pkt, n, 8, &h), 0);
    CHECK_EQ(h.type, QC_PT_INITIAL);
    CHECK_U64(h.version, QC_VERSION_2);
    CHECK_EQ(h.pkt_len, 1200);
    qc_keys_clear(cp, &c);
    qc_keys_clear(cp, &s);
}

/* A.4: the Retry (v2 key and nonce; type bits 00 mean Retry in v2). */
static void test_retry(void) {
    uint8_t retry[64];
    size_t n =
        test_unhex("cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6",
                   retry, sizeof(retry));
    qc_cid od = sample_dcid();
    uint8_t tag[16];
    CHECK_EQ(qc_retry_tag(cp, QC_VERSION_2, &od, retry, n - 16, tag), 0);
    CHECK_MEM(tag, retry + n - 16, 16);
    CHECK_EQ(qc_retry_tag(cp, QC_VERSION_1, &od, retry, n - 16, tag), 0);
    CHECK(memcmp(tag, retry + n - 16, 16) != 0); /* v1's key gives another tag */
    qc_pkt_hdr h;
    CHECK_EQ(qc_pkt_parse(retry, n, 8, &h), 0);
    CHECK_EQ(h.type, QC_PT_RETRY);
    CHECK_EQ(h.token_len, 5);
    CHECK_MEM(h.token, "token", 5);
    /* Our writer produces the same bytes (unused bits 0xf). */
    qc_cid dcid = {.len = 0}, scid = {.len = 8};
    test_unhex("f067a5502a4262b5", scid.id, 8);
    uint8_t out[64];
    size_t w = qc_pkt_write_retry_body(out, sizeof(out), QC_VERSION_2, &dcid, &scid,
                                       (const uint8_t *)"token", 5, 0x0f);
    CHECK_EQ(w, n - 16);
    CHECK_MEM(out, retry, n - 16);
    CHECK_EQ(qc_pkt_write_retry_body(out, sizeof(out), 0x1a2a3a4a, &dcid, &scid,
                                     (const uint8_t *)"token", 5, 0),
             0);
}

/* A.5: ChaCha20-Poly1305 short header; the key update uses "quicv2 ku". */
static void test_chacha20(void) {
    uint8_t secret[32], want[32];
    test_unhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b", secret, 32);
    qc_keys k, next;
    CHECK_EQ(qc_keys_from_secret(cp, &k, V2, QC_SUITE_CHACHA20_POLY1305_SHA256, secret, 32), 0);
    test_unhex("a6b5bc6ab7dafce30ffff5dd", want, 12);
    CHECK_MEM(k.iv, want, 12);
    uint8_t payload[1] = {0x01};
    protect_open(&k, "4200bff4", 1, 654360564, payload, 1,
                 "5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba");
    CHECK_EQ(qc_keys_update(cp, &next, &k), 0);
    test_unhex("c69374c49e3d2a9466fa689e49d476db5d0dfbc87d32ceeaa6343fd0ae4c7d88", want, 32);
    CHECK_MEM(next.secret, want, 32);
    CHECK(next.ver == V2);
    qc_keys_clear(cp, &k);
    qc_keys_clear(cp, &next);
}

/* Each version's Type bits: a header written as Handshake reads back as Handshake. */
static void test_packet_types(void) {
    static const uint32_t vs[] = {QC_VERSION_1, QC_VERSION_2, QC_VERSION_2_DRAFT};
    static const uint8_t v2_first[] = {
        [QC_PT_INITIAL] = 0xd0, [QC_PT_0RTT] = 0xe0, [QC_PT_HANDSHAKE] = 0xf0};
    qc_cid d = sample_dcid(), s = {.len = 4, .id = {1, 2, 3, 4}};
    for (size_t i = 0; i < QC_ARRAY_LEN(vs); i++) {
        for (int t = QC_PT_INITIAL; t <= QC_PT_HANDSHAKE; t++) {
            uint8_t buf[128] = {0};
            qc_pkt_out o = {.type = (enum qc_pkt_type)t,
                            .version = vs[i],
                            .dcid = &d,
                            .scid = &s,
                            .pn = 7,
                            .pn_len = 1};
            size_t pn_off, hl = qc_pkt_write_hdr(buf, sizeof(buf), &o, &pn_off);
            CHECK(hl > 0);
            qc_pkt_set_length(buf, pn_off, 1 + 20);
            if (vs[i] != QC_VERSION_1) CHECK_EQ(buf[0] & 0xf0, v2_first[t]);
            qc_pkt_hdr h;
            CHECK_EQ(qc_pkt_parse(buf, pn_off + 21, 8, &h), 0);
            CHECK_EQ(h.type, t);
            CHECK_U64(h.version, vs[i]);
        }
    }
    /* A version quicc does not speak: only the invariant fields, and QC_ERR_VERSION. */
    uint8_t buf[128] = {0};
    qc_pkt_out o = {
        .type = QC_PT_INITIAL, .version = 0x1a2a3a4a, .dcid = &d, .scid = &s, .pn = 1, .pn_len = 1};
    size_t pn_off;
    CHECK_EQ(qc_pkt_write_hdr(buf, sizeof(buf), &o, &pn_off), 0);
}

static void test_names_and_lists(void) {
    uint32_t v;
    CHECK_EQ(qc_version_parse("v2", &v), 0);
    CHECK_U64(v, QC_VERSION_2);
    CHECK_EQ(qc_version_parse("0x709a50c4", &v), 0);
    CHECK_U64(v, QC_VERSION_2_DRAFT);
    CHECK_EQ(qc_version_parse("0x1", &v), 0);
    CHECK_U64(v, QC_VERSION_1);
    CHECK_EQ(qc_version_parse("v3", &v), QC_ERR_INVAL);
    CHECK_EQ(qc_version_parse("0x1a2a3a4a", &v), QC_ERR_INVAL);
    CHECK_EQ(qc_version_parse("0x", &v), QC_ERR_INVAL);
    CHECK(strcmp(qc_version_name(QC_VERSION_2), "v2") == 0);
    CHECK(qc_version_name(0x1a2a3a4a) == NULL);
    qc_version_list l;
    CHECK_EQ(qc_version_list_parse("v2,v1", &l), 0);
    CHECK_EQ(l.n, 2);
    CHECK_U64(l.v[0], QC_VERSION_2);
    CHECK_U64(l.v[1], QC_VERSION_1);
    CHECK(qc_version_list_has(&l, QC_VERSION_1));
    CHECK(!qc_version_list_has(&l, QC_VERSION_2_DRAFT));
    CHECK_EQ(qc_version_list_parse("v1,v1", &l), QC_ERR_INVAL);
    CHECK_EQ(qc_version_list_parse("v1,", &l), QC_ERR_INVAL);
    CHECK_EQ(qc_version_list_parse("", &l), QC_ERR_INVAL);
    CHECK_EQ(qc_version_list_parse("v1,,v2", &l), QC_ERR_INVAL);
    CHECK_EQ(qc_version_list_parse("v1,bogus", &l), QC_ERR_INVAL);
    CHECK_EQ(qc_version_list_parse("v1,v2,v2draft,0x1", &l), QC_ERR_INVAL); /* twice */
}

/* The server's choice: its own preference among what the client offers. */
static void test_negotiate(void) {
    qc_version_list ours = {{QC_VERSION_2, QC_VERSION_1}, 2};
    uint32_t both[] = {QC_VERSION_1, QC_VERSION_2}, only1[] = {QC_VERSION_1},
             grease[] = {0x1a2a3a4a, QC_VERSION_1};
    CHECK_U64(qc_version_negotiate(&ours, QC_VERSION_1, both, 2), QC_VERSION_2);
    CHECK_U64(qc_version_negotiate(&ours, QC_VERSION_1, only1, 1), QC_VERSION_1);
    CHECK_U64(qc_version_negotiate(&ours, QC_VERSION_1, grease, 2), QC_VERSION_1);
    CHECK_U64(qc_version_negotiate(&ours, QC_VERSION_1, NULL, 0), QC_VERSION_1);
    qc_version_list v1only = {{QC_VERSION_1}, 1};
    CHECK_U64(qc_version_negotiate(&v1only, QC_VERSION_1, both, 2), QC_VERSION_1);
    uint32_t draft[] = {QC_VERSION_1, QC_VERSION_2_DRAFT};
    CHECK_U64(qc_version_negotiate(&ours, QC_VERSION_1, draft, 2), QC_VERSION_1);
}

/* A server's schedule moves to v2 and still reads the client's v1 Initials; a client's
 * schedule switching to v2 reads the server's v2 Initial. */
static void test_schedule_switch(void) {
    qc_cid d = sample_dcid();
    qc_key_schedule srv, cli;
    qc_ks_init(&srv, qc_version_find(QC_VERSION_1));
    qc_ks_init(&cli, qc_version_find(QC_VERSION_1));
    CHECK_EQ(qc_ks_set_initial(&srv, cp, true, &d), 0);
    CHECK_EQ(qc_ks_set_initial(&cli, cp, false, &d), 0);
    CHECK(qc_ks_initial_rx(&srv, QC_VERSION_1) == &srv.rx[QC_EPOCH_INITIAL]);
    CHECK(qc_ks_initial_rx(&srv, QC_VERSION_2) == NULL);
    CHECK_EQ(qc_ks_switch_version(&srv, cp, true, V2, &d, true), 0);
    CHECK(qc_ks_initial_rx(&srv, QC_VERSION_2) == &srv.rx[QC_EPOCH_INITIAL]);
    CHECK(qc_ks_initial_rx(&srv, QC_VERSION_1) == &srv.rx_initial_alt);
    /* The client's v1 Initial (sealed with its v1 keys) opens with the server's alternative. */
    uint8_t pkt[64] = {0xc0, 0, 0, 0, 1};
    uint8_t body[40] = {1};
    memcpy(pkt + 5, body, 30);
    CHECK_EQ(qc_packet_protect(cp, &cli.tx[QC_EPOCH_INITIAL], pkt, 6, 1, 5, 20), 0);
    uint64_t tpn;
    size_t pnl;
    uint8_t *out;
    size_t olen;
    CHECK_EQ(
        qc_packet_unprotect_header(cp, &srv.rx_initial_alt, pkt, 6 + 1 + 20 + 16, 6, &tpn, &pnl),
        0);
    CHECK_EQ(qc_packet_decrypt(cp, &srv.rx_initial_alt, pkt, 6 + 1 + 20 + 16, 7, 5, &out, &olen),
             0);
    /* The server's v2 Initial opens once the client has the v2 keys as its alternative, and
     * again after it switched. */
    CHECK_EQ(qc_ks_set_initial_alt(&cli, cp, false, V2, &d), 0);
    uint8_t p2[64] = {0xd0, 0x6b, 0x33, 0x43, 0xcf}, p3[64];
    memcpy(p2 + 5, body, 30);
    CHECK_EQ(qc_packet_protect(cp, &srv.tx[QC_EPOCH_INITIAL], p2, 6, 1, 9, 20), 0);
    memcpy(p3, p2, sizeof(p2));
    qc_keys *k = qc_ks_initial_rx(&cli, QC_VERSION_2);
    CHECK(k == &cli.rx_initial_alt);
    CHECK_EQ(qc_packet_unprotect_header(cp, k, p2, 43, 6, &tpn, &pnl), 0);
    CHECK_EQ(qc_packet_decrypt(cp, k, p2, 43, 7, 9, &out, &olen), 0);
    CHECK_EQ(qc_ks_switch_version(&cli, cp, false, V2, &d, false), 0);
    CHECK(!cli.has_rx_initial_alt);
    CHECK(qc_ks_initial_rx(&cli, QC_VERSION_1) == NULL);
    k = qc_ks_initial_rx(&cli, QC_VERSION_2);
    CHECK(k == &cli.rx[QC_EPOCH_INITIAL]);
    CHECK_EQ(qc_packet_unprotect_header(cp, k, p3, 43, 6, &tpn, &pnl), 0);
    CHECK_EQ(qc_packet_decrypt(cp, k, p3, 43, 7, 9, &out, &olen), 0);
    /* Discarding Initial keys takes the alternative with them. */
    qc_ks_discard(&srv, cp, QC_EPOCH_INITIAL);
    CHECK(!srv.has_rx_initial_alt);
    CHECK(qc_ks_initial_rx(&srv, QC_VERSION_1) == NULL);
    qc_ks_free(&srv, cp);
    qc_ks_free(&cli, cp);
}

int main(void) {
    TEST_RUN(test_keys);
    TEST_RUN(test_initials);
    TEST_RUN(test_retry);
    TEST_RUN(test_chacha20);
    TEST_RUN(test_packet_types);
    TEST_RUN(test_names_and_lists);
    TEST_RUN(test_negotiate);
    TEST_RUN(test_schedule_switch);
    return test_summary();
}
