/* Unit tests for crypto.c and crypto_gnutls.c: every RFC 9001 Appendix A vector, tampering,
 * key update, AES-256-GCM round trip and error paths. */
#include "core/crypto.h"
#include "tls/tls.h"
#include "unit/rfc_vectors.h"
#include "unit/test.h"

#define V1 qc_version_find(QC_VERSION_1)

static const qc_crypto_provider *cp = &qc_gnutls_crypto;

static const char *a2_packet = "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
                               "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
                               "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
                               "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
                               "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
                               "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
                               "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
                               "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
                               "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
                               "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
                               "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
                               "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
                               "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
                               "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
                               "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
                               "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
                               "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
                               "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
                               "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
                               "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
                               "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
                               "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
                               "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
                               "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
                               "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
                               "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
                               "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
                               "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
                               "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
                               "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
                               "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
                               "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
                               "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
                               "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
                               "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
                               "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
                               "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
                               "e221af44860018ab0856972e194cd934";

static size_t unhex(const char *h, uint8_t *out, size_t cap) {
    return test_unhex(h, out, cap);
}

static void expand(const uint8_t *secret, size_t slen, const char *label, size_t n,
                   const char *hex) {
    uint8_t out[64], want[64];
    CHECK_EQ(cp->hkdf_expand_label(QC_SUITE_AES_128_GCM_SHA256, secret, slen, label, out, n), 0);
    CHECK_EQ(unhex(hex, want, sizeof(want)), n);
    CHECK_MEM(out, want, n);
}

/* A.1: keys from the client's DCID 0x8394c8f03e515708. */
static void test_a1_initial_keys(void) {
    qc_cid dcid = {.len = 8};
    unhex("8394c8f03e515708", dcid.id, 8);
    uint8_t cs[32], ss[32], want[32];
    CHECK_EQ(qc_initial_secrets(cp, QC_VERSION_1, &dcid, cs, ss), 0);
    unhex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea", want, 32);
    CHECK_MEM(cs, want, 32);
    unhex("3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b", want, 32);
    CHECK_MEM(ss, want, 32);
    expand(cs, 32, "quic key", 16, "1f369613dd76d5467730efcbe3b1a22d");
    expand(cs, 32, "quic iv", 12, "fa044b2f42a3fd3b46fb255c");
    expand(cs, 32, "quic hp", 16, "9f50449e04a0e810283a1e9933adedd2");
    expand(ss, 32, "quic key", 16, "cf3a5331653c364c88f0f379b6067e37");
    expand(ss, 32, "quic iv", 12, "0ac1493ca1905853b0bba03e");
    expand(ss, 32, "quic hp", 16, "c206b8d9b9f0f37644430b490eeaa314");
    CHECK_EQ(qc_initial_secrets(cp, 0xff00001d, &dcid, cs, ss), QC_ERR_VERSION);
}

static void initial_keys(qc_keys *client, qc_keys *server) {
    qc_cid dcid = {.len = 8};
    unhex("8394c8f03e515708", dcid.id, 8);
    uint8_t cs[32], ss[32];
    qc_initial_secrets(cp, QC_VERSION_1, &dcid, cs, ss);
    CHECK_EQ(qc_keys_from_secret(cp, client, V1, QC_SUITE_AES_128_GCM_SHA256, cs, 32), 0);
    CHECK_EQ(qc_keys_from_secret(cp, server, V1, QC_SUITE_AES_128_GCM_SHA256, ss, 32), 0);
}

/* Protects hdr+payload and compares with expect; then unprotects and decrypts it back. */
static void protect_roundtrip(qc_keys *k, const char *hdr_hex, const uint8_t *payload, size_t plen,
                              size_t pn_offset, uint64_t pn, const uint8_t *expect,
                              size_t expect_len, uint64_t largest_rx) {
    uint8_t pkt[1600], orig[1600];
    size_t hlen = unhex(hdr_hex, pkt, sizeof(pkt));
    size_t pn_len = hlen - pn_offset;
    memcpy(pkt + hlen, payload, plen);
    memcpy(orig, pkt, hlen + plen);
    CHECK_EQ(qc_packet_protect(cp, k, pkt, pn_offset, pn_len, pn, plen), 0);
    CHECK_EQ(hlen + plen + 16, expect_len);
    CHECK_MEM(pkt, expect, expect_len);
    uint64_t tpn;
    size_t got_pn_len;
    CHECK_EQ(qc_packet_unprotect_header(cp, k, pkt, expect_len, pn_offset, &tpn, &got_pn_len), 0);
    CHECK_EQ(got_pn_len, pn_len);
    CHECK_U64(tpn, pn & ((1ull << (8 * pn_len)) - 1));
    (void)largest_rx;
    uint8_t *out;
    size_t out_len;
    CHECK_EQ(qc_packet_decrypt(cp, k, pkt, expect_len, hlen, pn, &out, &out_len), 0);
    CHECK_EQ(out_len, plen);
    CHECK_MEM(pkt, orig, hlen + plen);
}

/* A.2: the client Initial (CRYPTO frame padded to 1162 bytes, pn 2). */
static void test_a2_client_initial(void) {
    qc_keys c, s;
    initial_keys(&c, &s);
    uint8_t payload[1162] = {0}, expect[1300];
    unhex(rfc_client_crypto, payload, sizeof(payload));
    size_t elen = unhex(a2_packet, expect, sizeof(expect));
    CHECK_EQ(elen, 1200);
    protect_roundtrip(&c, "c300000001088394c8f03e5157080000449e00000002", payload, 1162, 18, 2,
                      expect, elen, UINT64_MAX);
    qc_keys_clear(cp, &c);
    qc_keys_clear(cp, &s);
}

/* A.3: the server Initial (ACK + CRYPTO, pn 1 in 2 bytes). */
static void test_a3_server_initial(void) {
    qc_keys c, s;
    initial_keys(&c, &s);
    uint8_t payload[200], expect[300];
    size_t plen = unhex("02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
                        "88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
                        "0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
                        "020304",
                        payload, sizeof(payload));
    size_t elen = unhex("cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
                        "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
                        "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
                        "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
                        "2158407dd074ee",
                        expect, sizeof(expect));
    protect_roundtrip(&s, "c1000000010008f067a5502a4262b50040750001", payload, plen, 18, 1, expect,
                      elen, UINT64_MAX);
    qc_keys_clear(cp, &c);
    qc_keys_clear(cp, &s);
}

/* A.4: the Retry integrity tag. */
static void test_a4_retry(void) {
    uint8_t retry[64];
    size_t n = unhex("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba",
                     retry, sizeof(retry));
    qc_cid odcid = {.len = 8};
    unhex("8394c8f03e515708", odcid.id, 8);
    uint8_t tag[16];
    CHECK_EQ(qc_retry_tag(cp, QC_VERSION_1, &odcid, retry, n - 16, tag), 0);
    CHECK_MEM(tag, retry + n - 16, 16);
    odcid.id[0] ^= 1; /* a different original DCID gives a different tag */
    CHECK_EQ(qc_retry_tag(cp, QC_VERSION_1, &odcid, retry, n - 16, tag), 0);
    CHECK(memcmp(tag, retry + n - 16, 16) != 0);
    CHECK_EQ(qc_retry_tag(cp, 2, &odcid, retry, n - 16, tag), QC_ERR_VERSION);
}

/* A.5: ChaCha20-Poly1305 short header packet, and its key update secret. */
static void test_a5_chacha20(void) {
    uint8_t secret[32], ku[32], want[32];
    unhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b", secret, 32);
    CHECK_EQ(
        cp->hkdf_expand_label(QC_SUITE_CHACHA20_POLY1305_SHA256, secret, 32, "quic ku", ku, 32), 0);
    unhex("1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9", want, 32);
    CHECK_MEM(ku, want, 32);
    qc_keys k;
    CHECK_EQ(qc_keys_from_secret(cp, &k, V1, QC_SUITE_CHACHA20_POLY1305_SHA256, secret, 32), 0);
    uint8_t iv[12];
    unhex("e0459b3474bdd0e44a41c144", iv, 12);
    CHECK_MEM(k.iv, iv, 12);
    uint8_t expect[32], payload[1] = {0x01};
    size_t elen = unhex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb", expect, sizeof(expect));
    protect_roundtrip(&k, "4200bff4", payload, 1, 1, 654360564, expect, elen, 654360563);
    /* The next generation uses the "quic ku" secret and keeps the header protection key. */
    qc_keys next;
    CHECK_EQ(qc_keys_update(cp, &next, &k), 0);
    CHECK_MEM(next.secret, want, 32);
    CHECK(next.hp == k.hp);
    qc_keys_clear(cp, &k); /* the shared HP handle stays valid for next */
    uint8_t pkt[64];
    unhex("4200bff4", pkt, 4);
    pkt[4] = 0x01;
    CHECK_EQ(qc_packet_protect(cp, &next, pkt, 1, 3, 654360564, 1), 0);
    CHECK(memcmp(pkt, expect, elen) != 0);
    uint64_t tpn;
    size_t pnl;
    uint8_t *out;
    size_t olen;
    CHECK_EQ(qc_packet_unprotect_header(cp, &next, pkt, elen, 1, &tpn, &pnl), 0);
    CHECK_EQ(qc_packet_decrypt(cp, &next, pkt, elen, 4, 654360564, &out, &olen), 0);
    CHECK_EQ(olen, 1);
    CHECK_EQ(out[0], 0x01);
    qc_keys_clear(cp, &next);
}

static void test_tamper_every_byte(void) {
    qc_keys c, s;
    initial_keys(&c, &s);
    uint8_t payload[200], pkt[300], work[300];
    size_t plen = unhex("02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739", payload,
                        sizeof(payload));
    size_t hlen = unhex("c1000000010008f067a5502a4262b50040750001", pkt, sizeof(pkt));
    memcpy(pkt + hlen, payload, plen);
    CHECK_EQ(qc_packet_protect(cp, &s, pkt, 18, 2, 1, plen), 0);
    size_t total = hlen + plen + 16;
    int failures = 0;
    for (size_t i = 0; i < total; i++) {
        memcpy(work, pkt, total);
        work[i] ^= 0x40;
        uint64_t tpn;
        size_t pnl;
        uint8_t *out;
        size_t olen;
        if (qc_packet_unprotect_header(cp, &s, work, total, 18, &tpn, &pnl) != 0) {
            failures++;
            continue;
        }
        uint64_t pn = tpn; /* largest received 0: the 2-byte pn decodes to itself */
        if (qc_packet_decrypt(cp, &s, work, total, 18 + pnl, pn, &out, &olen) == QC_ERR_DECRYPT)
            failures++;
    }
    CHECK_EQ(failures, (int)total);
    qc_keys_clear(cp, &c);
    qc_keys_clear(cp, &s);
}

static void test_aes256_roundtrip(void) {
    uint8_t secret[48];
    for (int i = 0; i < 48; i++)
        secret[i] = (uint8_t)i;
    qc_keys k;
    CHECK_EQ(qc_keys_from_secret(cp, &k, V1, QC_SUITE_AES_256_GCM_SHA384, secret, 32),
             QC_ERR_INVAL);
    qc_keys_clear(cp, &k);
    CHECK_EQ(qc_keys_from_secret(cp, &k, V1, QC_SUITE_AES_256_GCM_SHA384, secret, 48), 0);
    uint8_t pkt[1300], orig[1300];
    pkt[0] = 0x41;            /* short header, 2-byte pn */
    memset(pkt + 1, 0xab, 8); /* dcid */
    pkt[9] = 0x12;
    pkt[10] = 0x34;
    for (int i = 0; i < 1000; i++)
        pkt[11 + i] = (uint8_t)(i * 7);
    memcpy(orig, pkt, 1011);
    CHECK_EQ(qc_packet_protect(cp, &k, pkt, 9, 2, 0x1234, 1000), 0);
    uint64_t tpn;
    size_t pnl;
    uint8_t *out;
    size_t olen;
    CHECK_EQ(qc_packet_unprotect_header(cp, &k, pkt, 1027, 9, &tpn, &pnl), 0);
    CHECK_U64(tpn, 0x1234);
    CHECK_EQ(qc_packet_decrypt(cp, &k, pkt, 1027, 11, 0x1234, &out, &olen), 0);
    CHECK_EQ(olen, 1000);
    CHECK_MEM(pkt, orig, 1011);
    /* The wrong packet number fails authentication. */
    CHECK_EQ(qc_packet_protect(cp, &k, pkt, 9, 2, 0x1234, 1000), 0);
    CHECK_EQ(qc_packet_unprotect_header(cp, &k, pkt, 1027, 9, &tpn, &pnl), 0);
    CHECK_EQ(qc_packet_decrypt(cp, &k, pkt, 1027, 11, 0x11234, &out, &olen), QC_ERR_DECRYPT);
    qc_keys_clear(cp, &k);
}

static void test_short_packets(void) {
    qc_keys c, s;
    initial_keys(&c, &s);
    uint8_t pkt[64] = {0x41};
    uint64_t tpn;
    size_t pnl;
    /* pn_offset 9: the sample needs bytes 13..28. */
    CHECK_EQ(qc_packet_unprotect_header(cp, &c, pkt, 28, 9, &tpn, &pnl), QC_ERR_DECODE);
    CHECK_EQ(qc_packet_unprotect_header(cp, &c, pkt, 29, 9, &tpn, &pnl), 0);
    uint8_t *out;
    size_t olen;
    CHECK_EQ(qc_packet_decrypt(cp, &c, pkt, 20, 10, 0, &out, &olen), QC_ERR_DECRYPT);
    /* Too little payload to sample: refused rather than reading beyond the packet. */
    CHECK_EQ(qc_packet_protect(cp, &c, pkt, 9, 1, 0, 2), QC_ERR_INVAL);
    CHECK_EQ(qc_suite_key_len(QC_SUITE_NONE), 0);
    CHECK_EQ(qc_suite_secret_len(QC_SUITE_AES_256_GCM_SHA384), 48);
    qc_keys_clear(cp, &c);
    qc_keys_clear(cp, &s);
}

int main(void) {
    TEST_RUN(test_a1_initial_keys);
    TEST_RUN(test_a2_client_initial);
    TEST_RUN(test_a3_server_initial);
    TEST_RUN(test_a4_retry);
    TEST_RUN(test_a5_chacha20);
    TEST_RUN(test_tamper_every_byte);
    TEST_RUN(test_aes256_roundtrip);
    TEST_RUN(test_short_packets);
    return test_summary();
}
