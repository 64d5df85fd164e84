/* Unit tests for tparams.c: wire format, round trips, every validation error, unknown ids,
 * truncation, and the connection-ID authentication check of RFC 9000 §7.3. */
#include "core/tparams.h"
#include "unit/test.h"

static qc_cid mk_cid(uint8_t len, uint8_t v) {
    qc_cid c;
    memset(&c, 0, sizeof(c));
    c.len = len;
    for (uint8_t i = 0; i < len; i++)
        c.id[i] = (uint8_t)(v + i);
    return c;
}

/* Every parameter set to a non-default value. */
static void full_params(qc_tparams *tp) {
    qc_tparams_default(tp);
    tp->has_original_dcid = tp->has_initial_scid = tp->has_retry_scid = true;
    tp->has_reset_token = tp->has_preferred_address = true;
    tp->original_dcid = mk_cid(20, 0x10);
    tp->initial_scid = mk_cid(8, 0x30);
    tp->retry_scid = mk_cid(5, 0x50);
    for (int i = 0; i < 16; i++)
        tp->reset_token[i] = (uint8_t)(0x70 + i);
    tp->max_idle_timeout_ms = 30000;
    tp->max_udp_payload_size = 1452;
    tp->initial_max_data = 1ull << 40;
    tp->initial_max_stream_data_bidi_local = 1000000;
    tp->initial_max_stream_data_bidi_remote = 63;
    tp->initial_max_stream_data_uni = 16384;
    tp->initial_max_streams_bidi = 1ull << 60;
    tp->initial_max_streams_uni = 3;
    tp->ack_delay_exponent = 20;
    tp->max_ack_delay_ms = 16383;
    tp->disable_active_migration = true;
    tp->active_connection_id_limit = 8;
    tp->max_datagram_frame_size = 65535;
    uint8_t v4[4] = {192, 0, 2, 1};
    memcpy(tp->preferred_address.ipv4, v4, 4);
    tp->preferred_address.ipv4_port = 4433;
    for (int i = 0; i < 16; i++)
        tp->preferred_address.ipv6[i] = (uint8_t)(0x20 + i);
    tp->preferred_address.ipv6_port = 443;
    tp->preferred_address.cid = mk_cid(12, 0x90);
    for (int i = 0; i < 16; i++)
        tp->preferred_address.reset_token[i] = (uint8_t)(0xe0 + i);
}

static bool cid_same(const qc_cid *a, const qc_cid *b) {
    return qc_cid_eq(a, b);
}

/* Field-by-field comparison; server-only fields only when with_server. */
static void check_same(const qc_tparams *a, const qc_tparams *b, bool with_server) {
    CHECK_EQ(a->has_initial_scid, b->has_initial_scid);
    if (a->has_initial_scid) CHECK(cid_same(&a->initial_scid, &b->initial_scid));
    CHECK_U64(a->max_idle_timeout_ms, b->max_idle_timeout_ms);
    CHECK_U64(a->max_udp_payload_size, b->max_udp_payload_size);
    CHECK_U64(a->initial_max_data, b->initial_max_data);
    CHECK_U64(a->initial_max_stream_data_bidi_local, b->initial_max_stream_data_bidi_local);
    CHECK_U64(a->initial_max_stream_data_bidi_remote, b->initial_max_stream_data_bidi_remote);
    CHECK_U64(a->initial_max_stream_data_uni, b->initial_max_stream_data_uni);
    CHECK_U64(a->initial_max_streams_bidi, b->initial_max_streams_bidi);
    CHECK_U64(a->initial_max_streams_uni, b->initial_max_streams_uni);
    CHECK_U64(a->ack_delay_exponent, b->ack_delay_exponent);
    CHECK_U64(a->max_ack_delay_ms, b->max_ack_delay_ms);
    CHECK_EQ(a->disable_active_migration, b->disable_active_migration);
    CHECK_U64(a->active_connection_id_limit, b->active_connection_id_limit);
    CHECK_U64(a->max_datagram_frame_size, b->max_datagram_frame_size);
    if (!with_server) {
        CHECK(!b->has_original_dcid && !b->has_retry_scid && !b->has_reset_token &&
              !b->has_preferred_address);
        return;
    }
    CHECK_EQ(a->has_original_dcid, b->has_original_dcid);
    CHECK(cid_same(&a->original_dcid, &b->original_dcid));
    CHECK_EQ(a->has_retry_scid, b->has_retry_scid);
    CHECK(cid_same(&a->retry_scid, &b->retry_scid));
    CHECK_EQ(a->has_reset_token, b->has_reset_token);
    CHECK_MEM(a->reset_token, b->reset_token, 16);
    CHECK_EQ(a->has_preferred_address, b->has_preferred_address);
    CHECK_MEM(a->preferred_address.ipv4, b->preferred_address.ipv4, 4);
    CHECK_EQ(a->preferred_address.ipv4_port, b->preferred_address.ipv4_port);
    CHECK_MEM(a->preferred_address.ipv6, b->preferred_address.ipv6, 16);
    CHECK_EQ(a->preferred_address.ipv6_port, b->preferred_address.ipv6_port);
    CHECK(cid_same(&a->preferred_address.cid, &b->preferred_address.cid));
    CHECK_MEM(a->preferred_address.reset_token, b->preferred_address.reset_token, 16);
}

static void test_defaults(void) {
    qc_tparams tp;
    qc_tparams_default(&tp);
    CHECK_U64(tp.max_udp_payload_size, 65527);
    CHECK_U64(tp.ack_delay_exponent, 3);
    CHECK_U64(tp.max_ack_delay_ms, 25);
    CHECK_U64(tp.active_connection_id_limit, 2);
    CHECK_U64(tp.initial_max_data, 0);
    CHECK_U64(tp.max_idle_timeout_ms, 0);
    CHECK(!tp.has_initial_scid && !tp.disable_active_migration);
    uint8_t buf[16];
    CHECK_EQ(qc_tparams_encode(&tp, true, buf, sizeof(buf)), 0);
    qc_tparams d;
    memset(&d, 0xff, sizeof(d));
    CHECK_EQ(qc_tparams_decode(&d, false, buf, 0), 0);
    check_same(&tp, &d, true);
}

/* Exact bytes of a small set, both directions. */
static void test_wire_format(void) {
    qc_tparams tp;
    qc_tparams_default(&tp);
    tp.max_idle_timeout_ms = 100;
    tp.initial_max_data = 5;
    tp.disable_active_migration = true;
    tp.has_initial_scid = true;
    tp.initial_scid = mk_cid(4, 0xaa);
    uint8_t buf[64], expect[64];
    size_t n = test_unhex("01 02 4064  04 01 05  0c 00  0f 04 aaabacad", expect, sizeof(expect));
    CHECK_EQ(qc_tparams_encode(&tp, false, buf, sizeof(buf)), n);
    CHECK_MEM(buf, expect, n);
    qc_tparams d;
    CHECK_EQ(qc_tparams_decode(&d, true, expect, n), 0);
    check_same(&tp, &d, false);

    /* preferred_address layout. */
    qc_tparams_default(&tp);
    tp.has_preferred_address = true;
    uint8_t v4[4] = {1, 2, 3, 4};
    memcpy(tp.preferred_address.ipv4, v4, 4);
    tp.preferred_address.ipv4_port = 0x1234;
    memset(tp.preferred_address.ipv6, 0x66, 16);
    tp.preferred_address.ipv6_port = 0x5678;
    tp.preferred_address.cid = mk_cid(2, 0xc0);
    memset(tp.preferred_address.reset_token, 0x77, 16);
    n = test_unhex("0d 2b 01020304 1234 66666666666666666666666666666666 5678 02 c0c1"
                   "77777777777777777777777777777777",
                   expect, sizeof(expect));
    CHECK_EQ(n, 45);
    CHECK_EQ(qc_tparams_encode(&tp, true, buf, sizeof(buf)), n);
    CHECK_MEM(buf, expect, n);
    CHECK_EQ(qc_tparams_decode(&d, true, expect, n), 0);
    check_same(&tp, &d, true);
    /* A client never writes server-only parameters. */
    CHECK_EQ(qc_tparams_encode(&tp, false, buf, sizeof(buf)), 0);
}

static void test_round_trip(void) {
    qc_tparams tp, d;
    full_params(&tp);
    uint8_t buf[512];
    int n = qc_tparams_encode(&tp, true, buf, sizeof(buf));
    CHECK(n > 0);
    CHECK_EQ(qc_tparams_decode(&d, true, buf, (size_t)n), 0);
    check_same(&tp, &d, true);
    /* As a server receiving from a client: server-only ones are not encoded. */
    int m = qc_tparams_encode(&tp, false, buf, sizeof(buf));
    CHECK(m > 0 && m < n);
    CHECK_EQ(qc_tparams_decode(&d, false, buf, (size_t)m), 0);
    check_same(&tp, &d, false);
    /* Every too-small buffer fails cleanly. */
    n = qc_tparams_encode(&tp, true, buf, sizeof(buf));
    for (int cap = 0; cap < n; cap++) {
        uint8_t small[512];
        CHECK_EQ(qc_tparams_encode(&tp, true, small, (size_t)cap), QC_ERR_NOBUF);
    }
    /* Values that cannot be encoded. */
    tp.initial_max_data = QC_MAX_VARINT + 1;
    CHECK_EQ(qc_tparams_encode(&tp, true, buf, sizeof(buf)), QC_ERR_INVAL);
    full_params(&tp);
    tp.preferred_address.cid.len = 0;
    CHECK_EQ(qc_tparams_encode(&tp, true, buf, sizeof(buf)), QC_ERR_INVAL);
}

/* Decodes hex as sent by a server (from_server) or client. */
static int dec_hex(const char *hex, bool from_server, qc_tparams *out) {
    uint8_t buf[256];
    size_t n = test_unhex(hex, buf, sizeof(buf));
    return qc_tparams_decode(out, from_server, buf, n);
}

static void test_validation_errors(void) {
    qc_tparams d;
    /* grease_quic_bit (RFC 9287): zero-length only; 0x2ab2 is the varint 80 00 2a b2. */
    CHECK_EQ(dec_hex("80002ab2 00", true, &d), 0);
    CHECK(d.grease_quic_bit);
    CHECK_EQ(dec_hex("80002ab2 01 00", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("0e 01 02", true, &d), 0);
    CHECK(!d.grease_quic_bit);
    qc_tparams g;
    qc_tparams_default(&g);
    g.grease_quic_bit = true;
    uint8_t gb[64];
    int gn = qc_tparams_encode(&g, false, gb, sizeof(gb));
    CHECK(gn > 0);
    CHECK_EQ(qc_tparams_decode(&d, false, gb, (size_t)gn), 0);
    CHECK(d.grease_quic_bit);
    /* max_udp_payload_size */
    CHECK_EQ(dec_hex("03 02 44af", true, &d), QC_ERR_TPARAM); /* 1199 */
    CHECK_EQ(dec_hex("03 02 44b0", true, &d), 0);             /* 1200 */
    CHECK_U64(d.max_udp_payload_size, 1200);
    /* ack_delay_exponent */
    CHECK_EQ(dec_hex("0a 01 15", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("0a 01 14", true, &d), 0);
    CHECK_U64(d.ack_delay_exponent, 20);
    /* max_ack_delay */
    CHECK_EQ(dec_hex("0b 04 80004000", true, &d), QC_ERR_TPARAM); /* 2^14 */
    CHECK_EQ(dec_hex("0b 02 7fff", true, &d), 0);
    CHECK_U64(d.max_ack_delay_ms, 16383);
    /* active_connection_id_limit */
    CHECK_EQ(dec_hex("0e 01 00", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("0e 01 01", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("0e 01 02", true, &d), 0);
    CHECK_U64(d.active_connection_id_limit, 2);
    /* initial_max_streams_* above 2^60 */
    CHECK_EQ(dec_hex("08 08 d000000000000001", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("09 08 d000000000000001", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("08 08 d000000000000000", true, &d), 0);
    CHECK_U64(d.initial_max_streams_bidi, 1ull << 60);
    CHECK_EQ(dec_hex("09 08 d000000000000000", true, &d), 0);
    CHECK_U64(d.initial_max_streams_uni, 1ull << 60);
    /* Integer lengths: short, long, empty. A non-minimal encoding filling the length is fine. */
    CHECK_EQ(dec_hex("04 01 4064", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("04 03 406400", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("04 00", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("01 02 4005", true, &d), 0);
    CHECK_U64(d.max_idle_timeout_ms, 5);
    /* Fixed lengths. */
    CHECK_EQ(dec_hex("0c 01 00", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("02 0f 000102030405060708090a0b0c0d0e", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("02 11 000102030405060708090a0b0c0d0e0f10", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("02 10 000102030405060708090a0b0c0d0e0f", true, &d), 0);
    CHECK(d.has_reset_token && d.reset_token[15] == 0x0f);
    /* Connection IDs longer than 20 bytes. */
    const char *cid21 = "15 000102030405060708090a0b0c0d0e0f1011121314";
    char hex[128];
    const uint8_t cid_ids[] = {0x00, 0x0f, 0x10};
    for (size_t i = 0; i < sizeof(cid_ids); i++) {
        snprintf(hex, sizeof(hex), "%02x %s", cid_ids[i], cid21);
        CHECK_EQ(dec_hex(hex, true, &d), QC_ERR_TPARAM);
    }
    CHECK_EQ(dec_hex("0f 00", true, &d), 0); /* zero-length ID is valid */
    CHECK(d.has_initial_scid && d.initial_scid.len == 0);
    /* preferred_address: wrong total length, zero-length and oversize CID. */
    const char *pa_ok = "0d 2b 01020304 1234 66666666666666666666666666666666 5678 02 c0c1"
                        "77777777777777777777777777777777";
    CHECK_EQ(dec_hex(pa_ok, true, &d), 0);
    CHECK_EQ(dec_hex("0d 2c 01020304 1234 66666666666666666666666666666666 5678 02 c0c1"
                     "7777777777777777777777777777777700",
                     true, &d),
             QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("0d 2a 01020304 1234 66666666666666666666666666666666 5678 02 c0c1"
                     "777777777777777777777777777777",
                     true, &d),
             QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("0d 29 01020304 1234 66666666666666666666666666666666 5678 00"
                     "77777777777777777777777777777777",
                     true, &d),
             QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("0d 29 01020304 1234 66666666666666666666666666666666 5678 15"
                     "77777777777777777777777777777777",
                     true, &d),
             QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("0d 10 01020304 1234 66666666666666666666", true, &d), QC_ERR_TPARAM);
    /* Length beyond the buffer; a truncated varint. */
    CHECK_EQ(dec_hex("04 05 01", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("04 40", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("80", true, &d), QC_ERR_TPARAM);
}

static void test_server_only_from_client(void) {
    qc_tparams d;
    const char *server_only[] = {
        "00 04 01020304",
        "02 10 000102030405060708090a0b0c0d0e0f",
        "0d 2b 01020304 1234 66666666666666666666666666666666 5678 02 c0c1"
        "77777777777777777777777777777777",
        "10 04 01020304",
    };
    for (size_t i = 0; i < QC_ARRAY_LEN(server_only); i++) {
        CHECK_EQ(dec_hex(server_only[i], false, &d), QC_ERR_TPARAM);
        CHECK_EQ(dec_hex(server_only[i], true, &d), 0);
    }
}

static void test_duplicates_and_unknown(void) {
    qc_tparams d;
    CHECK_EQ(dec_hex("04 01 05 04 01 05", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("0c 00 01 01 00 0c 00", true, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("0f 00 0f 00", false, &d), QC_ERR_TPARAM);
    CHECK_EQ(dec_hex("20 01 05 20 01 05", false, &d), QC_ERR_TPARAM);
    /* Unknown and reserved ids (31 * N + 27) are skipped, with any content... */
    CHECK_EQ(dec_hex("1b 03 ffffff 04 01 07 40b6 00 c000000000000fff 02 abcd 21 01 ff", false, &d),
             0);
    CHECK_U64(d.initial_max_data, 7);
    CHECK_U64(d.max_datagram_frame_size, 0);
    CHECK_U64(d.ack_delay_exponent, 3);
    /* ...but not twice. */
    CHECK_EQ(dec_hex("1b 00 04 01 07 1b 01 00", false, &d), QC_ERR_TPARAM);
    /* max_datagram_frame_size (RFC 9221). */
    CHECK_EQ(dec_hex("20 02 4400", false, &d), 0);
    CHECK_U64(d.max_datagram_frame_size, 1024);
}

/* Every prefix of an encoded set: parameter boundaries decode, all others fail. */
static void test_truncation(void) {
    qc_tparams tp, d;
    full_params(&tp);
    uint8_t buf[512];
    int n = qc_tparams_encode(&tp, true, buf, sizeof(buf));
    CHECK(n > 100);
    bool boundary[513] = {false};
    size_t count = 0;
    for (size_t off = 0; off < (size_t)n;) {
        boundary[off] = true;
        count++;
        /* id and length are varints; walk them by their prefix bits. */
        size_t il = (size_t)1 << (buf[off] >> 6);
        size_t lp = off + il;
        size_t ll = (size_t)1 << (buf[lp] >> 6);
        uint64_t vlen = buf[lp] & 0x3f;
        for (size_t i = 1; i < ll; i++)
            vlen = (vlen << 8) | buf[lp + i];
        off = lp + ll + (size_t)vlen;
    }
    CHECK_EQ(count, 18); /* every parameter is present */
    for (int len = 0; len < n; len++) {
        int rv = qc_tparams_decode(&d, true, buf, (size_t)len);
        if (boundary[len])
            CHECK_EQ(rv, 0);
        else
            CHECK_EQ(rv, QC_ERR_TPARAM);
    }
    CHECK_EQ(qc_tparams_decode(&d, true, buf, (size_t)n), 0);
}

static void test_check_cids(void) {
    qc_cid odcid = mk_cid(8, 0x01), cscid = mk_cid(8, 0x11), sscid = mk_cid(6, 0x21);
    qc_cid rscid = mk_cid(7, 0x31), other = mk_cid(8, 0x41), empty = mk_cid(0, 0);
    qc_tparams p;
    /* Server checks the client's parameters. */
    qc_tparams_default(&p);
    CHECK_EQ(qc_tparams_check_cids(&p, false, NULL, &cscid, NULL), QC_ERR_TPARAM); /* missing */
    p.has_initial_scid = true;
    p.initial_scid = cscid;
    CHECK_EQ(qc_tparams_check_cids(&p, false, NULL, &cscid, NULL), 0);
    CHECK_EQ(qc_tparams_check_cids(&p, false, NULL, &other, NULL), QC_ERR_TPARAM);
    p.initial_scid = empty;
    CHECK_EQ(qc_tparams_check_cids(&p, false, NULL, &empty, NULL), 0);
    CHECK_EQ(qc_tparams_check_cids(&p, false, NULL, &cscid, NULL), QC_ERR_TPARAM);

    /* Client checks the server's parameters, no Retry. */
    qc_tparams_default(&p);
    p.has_initial_scid = true;
    p.initial_scid = sscid;
    CHECK_EQ(qc_tparams_check_cids(&p, true, &odcid, &sscid, NULL), QC_ERR_TPARAM); /* no odcid */
    p.has_original_dcid = true;
    p.original_dcid = odcid;
    CHECK_EQ(qc_tparams_check_cids(&p, true, &odcid, &sscid, NULL), 0);
    CHECK_EQ(qc_tparams_check_cids(&p, true, &other, &sscid, NULL), QC_ERR_TPARAM);
    CHECK_EQ(qc_tparams_check_cids(&p, true, &odcid, &other, NULL), QC_ERR_TPARAM);
    p.has_initial_scid = false;
    CHECK_EQ(qc_tparams_check_cids(&p, true, &odcid, &sscid, NULL), QC_ERR_TPARAM);
    p.has_initial_scid = true;
    p.has_retry_scid = true; /* retry_source_connection_id without a Retry */
    p.retry_scid = rscid;
    CHECK_EQ(qc_tparams_check_cids(&p, true, &odcid, &sscid, NULL), QC_ERR_TPARAM);

    /* With a Retry: the server's parameters must name the Retry's SCID. */
    CHECK_EQ(qc_tparams_check_cids(&p, true, &odcid, &sscid, &rscid), 0);
    CHECK_EQ(qc_tparams_check_cids(&p, true, &odcid, &sscid, &other), QC_ERR_TPARAM);
    p.has_retry_scid = false;
    CHECK_EQ(qc_tparams_check_cids(&p, true, &odcid, &sscid, &rscid), QC_ERR_TPARAM);
    p.has_retry_scid = true;
    p.original_dcid = rscid; /* odcid must still be the client's first DCID */
    CHECK_EQ(qc_tparams_check_cids(&p, true, &odcid, &sscid, &rscid), QC_ERR_TPARAM);
    CHECK_EQ(qc_tparams_check_cids(&p, true, NULL, &sscid, &rscid), QC_ERR_INVAL);
}

/* version_information (RFC 9368 §3, §4): round trip, and every parsing failure. */
static void test_version_info(void) {
    qc_tparams tp, got;
    qc_tparams_default(&tp);
    tp.has_version_info = true;
    tp.chosen_version = 1;
    tp.available_versions[0] = 0x6b3343cf;
    tp.available_versions[1] = 1;
    tp.n_available = 2;
    uint8_t buf[64];
    int n = qc_tparams_encode(&tp, false, buf, sizeof(buf));
    static const uint8_t want[] = {0x11, 12, 0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf, 0, 0, 0, 1};
    CHECK_EQ(n, sizeof(want));
    CHECK_MEM(buf, want, sizeof(want));
    CHECK_EQ(qc_tparams_decode(&got, false, buf, (size_t)n), 0);
    CHECK(got.has_version_info);
    CHECK_U64(got.chosen_version, 1);
    CHECK_EQ(got.n_available, 2);
    CHECK_U64(got.available_versions[0], 0x6b3343cf);
    /* Not present: not set. */
    CHECK_EQ(qc_tparams_decode(&got, false, buf, 0), 0);
    CHECK(!got.has_version_info);
    /* A server's list may be empty and need not hold its Chosen Version. */
    static const uint8_t srv_empty[] = {0x11, 4, 0x6b, 0x33, 0x43, 0xcf};
    CHECK_EQ(qc_tparams_decode(&got, true, srv_empty, sizeof(srv_empty)), 0);
    CHECK_EQ(got.n_available, 0);
    CHECK_U64(got.chosen_version, 0x6b3343cf);
    /* A client's must. */
    CHECK_EQ(qc_tparams_decode(&got, false, srv_empty, sizeof(srv_empty)), QC_ERR_TPARAM);
    static const uint8_t bad_len[] = {0x11, 6, 0, 0, 0, 1, 0, 0};
    CHECK_EQ(qc_tparams_decode(&got, true, bad_len, sizeof(bad_len)), QC_ERR_TPARAM);
    static const uint8_t too_short[] = {0x11, 2, 0, 1};
    CHECK_EQ(qc_tparams_decode(&got, true, too_short, sizeof(too_short)), QC_ERR_TPARAM);
    static const uint8_t zero_chosen[] = {0x11, 8, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK_EQ(qc_tparams_decode(&got, true, zero_chosen, sizeof(zero_chosen)), QC_ERR_TPARAM);
    static const uint8_t zero_avail[] = {0x11, 12, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
    CHECK_EQ(qc_tparams_decode(&got, false, zero_avail, sizeof(zero_avail)), QC_ERR_TPARAM);
    static const uint8_t twice[] = {0x11, 4, 0, 0, 0, 1, 0x11, 4, 0, 0, 0, 1};
    CHECK_EQ(qc_tparams_decode(&got, true, twice, sizeof(twice)), QC_ERR_TPARAM);
    /* A long list: every entry checked, the first 16 kept. */
    uint8_t lbuf[2 + 4 + 4 * 40 + 1];
    size_t off = 0;
    lbuf[off++] = 0x11;
    lbuf[off++] = 0x40; /* a two-byte varint length: 164 */
    lbuf[off++] = 4 + 4 * 40;
    for (int i = 0; i < 41; i++) {
        uint32_t v = i == 0 || i == 40 ? 1 : 0x0a0a0a0a + (uint32_t)i; /* chosen first */
        lbuf[off++] = (uint8_t)(v >> 24);
        lbuf[off++] = (uint8_t)(v >> 16);
        lbuf[off++] = (uint8_t)(v >> 8);
        lbuf[off++] = (uint8_t)v;
    }
    CHECK_EQ(qc_tparams_decode(&got, false, lbuf, off), 0);
    CHECK_EQ(got.n_available, QC_TP_MAX_VERSIONS);
    lbuf[off - 1] = 0; /* the last one (beyond what is kept) zero: still refused */
    lbuf[off - 2] = 0;
    lbuf[off - 3] = 0;
    lbuf[off - 4] = 0;
    CHECK_EQ(qc_tparams_decode(&got, false, lbuf, off), QC_ERR_TPARAM);
    /* A client's Chosen Version listed only past what is kept: it takes the last kept slot,
     * and the parameters re-encode to valid ones (a fuzzer's find). */
    lbuf[off - 1] = 1; /* the 40th available version is 1 again: the only listing of 1 */
    CHECK_EQ(qc_tparams_decode(&got, false, lbuf, off), 0);
    CHECK_U64(got.available_versions[QC_TP_MAX_VERSIONS - 1], 1);
    uint8_t re[256];
    int rl = qc_tparams_encode(&got, false, re, sizeof(re));
    CHECK(rl > 0);
    qc_tparams again;
    CHECK_EQ(qc_tparams_decode(&again, false, re, (size_t)rl), 0);
    /* The draft's parameter (0xff73db): sent beside the RFC's when asked, read when it is
     * the only one, the RFC's winning when both came. */
    tp.version_info_draft = true;
    n = qc_tparams_encode(&tp, false, buf, sizeof(buf));
    static const uint8_t draft_hdr[] = {0x80, 0xff, 0x73, 0xdb, 12};
    CHECK_EQ(n, 2 * (int)sizeof(want) + 3);
    CHECK_MEM(buf + sizeof(want), draft_hdr, sizeof(draft_hdr));
    CHECK_EQ(qc_tparams_decode(&got, false, buf, (size_t)n), 0);
    CHECK(got.has_version_info && got.version_info_draft); /* both came: the RFC's counts */
    CHECK_EQ(qc_tparams_decode(&got, false, buf + sizeof(want), (size_t)n - sizeof(want)), 0);
    CHECK(got.has_version_info && got.version_info_draft);
    CHECK_U64(got.chosen_version, 1);
    CHECK_EQ(got.n_available, 2);
    static const uint8_t draft_bad[] = {0x80, 0xff, 0x73, 0xdb, 3, 0, 0, 1};
    CHECK_EQ(qc_tparams_decode(&got, false, draft_bad, sizeof(draft_bad)), QC_ERR_TPARAM);
}

int main(void) {
    TEST_RUN(test_defaults);
    TEST_RUN(test_wire_format);
    TEST_RUN(test_round_trip);
    TEST_RUN(test_validation_errors);
    TEST_RUN(test_server_only_from_client);
    TEST_RUN(test_duplicates_and_unknown);
    TEST_RUN(test_truncation);
    TEST_RUN(test_check_cids);
    TEST_RUN(test_version_info);
    return test_summary();
}
