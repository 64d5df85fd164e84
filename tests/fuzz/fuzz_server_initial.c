/*
 * fuzz_server_initial: a server's listener and new connection (core/endpoint.c,
 * the engine's receive path, TLS) fed client Initials protected with the real
 * Initial keys, so every mutation reaches the frame parser and the TLS
 * stack. The seed corpus holds a real ClientHello. The input is a list of
 * records:
 *   op % 4 in {0, 1}: an Initial carrying the next up to 1,300 bytes as its
 *                     payload (frames), with a token when op has bit 4;
 *   op % 4 == 2:      a raw datagram (headers, versions, Retry tokens);
 *   op % 4 == 3:      time passes (timers fire).
 * After every record the server's output is drained. Checked: the server
 * never sends more than three times what it received (RFC 9000 §8.1: the
 * fuzzer cannot complete address validation), and a connection that closes
 * itself uses a transport error code from RFC 9000 §20.1 or a TLS alert.
 */
#include "fuzz/fuzz.h"

#include "core/conn_internal.h"
#include "core/packet.h"
#include "support/sim.h"

#define V1 qc_version_find(QC_VERSION_1)

static sim S;
static bool ready;
static qc_keys client_keys;
static const qc_cid dcid = {.len = 8, .id = {0xd1, 0xc1, 0xd0, 0x00, 0x12, 0x34, 0x56, 0x78}};
static const qc_cid scid = {.len = 8, .id = {0x5c, 0x1d, 0x00, 0x00, 0x87, 0x65, 0x43, 0x21}};

static void setup(void) {
    if (ready) return;
    FZ_CHECK(sim_init(&S, 1, "hq-interop") == 0);
    uint8_t cs[32], ss[32];
    FZ_CHECK(qc_initial_secrets(&qc_gnutls_crypto, QC_VERSION_1, &dcid, cs, ss) == 0);
    FZ_CHECK(qc_keys_from_secret(&qc_gnutls_crypto, &client_keys, V1, QC_SUITE_AES_128_GCM_SHA256,
                                 cs, 32) == 0);
    ready = true;
}

static size_t initial(uint64_t pn, const uint8_t *token, size_t token_len, const uint8_t *frames,
                      size_t n, uint8_t *out, size_t cap) {
    qc_pkt_out po = {.type = QC_PT_INITIAL,
                     .version = QC_VERSION_1,
                     .dcid = &dcid,
                     .scid = &scid,
                     .token = token,
                     .token_len = token_len,
                     .pn = pn,
                     .pn_len = 4};
    size_t pn_off, hl = qc_pkt_write_hdr(out, cap, &po, &pn_off);
    if (!hl) return 0;
    size_t payload = n;
    if (hl + payload + QC_AEAD_TAG_LEN < 1200) payload = 1200 - hl - QC_AEAD_TAG_LEN;
    if (hl + payload + QC_AEAD_TAG_LEN > cap) return 0;
    memcpy(out + hl, frames, n);
    memset(out + hl + n, 0, payload - n);
    qc_pkt_set_length(out, pn_off, 4 + payload + QC_AEAD_TAG_LEN);
    FZ_CHECK(qc_packet_protect(&qc_gnutls_crypto, &client_keys, out, pn_off, 4, pn, payload) == 0);
    return hl + payload + QC_AEAD_TAG_LEN;
}

static uint64_t drain(sim *s) {
    uint64_t bytes = 0;
    uint8_t buf[1500];
    for (int i = 0; s->server && i < 1000; i++) {
        int n = qc_conn_send(s->server, buf, sizeof(buf), s->now);
        if (n <= 0) break;
        bytes += (uint64_t)n;
    }
    return bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    sim *s = &S;
    sim_reset(s, 1);
    FZ_CHECK(sim_listen(s) == 0);
    fz_in in = {data, size};
    uint64_t recvd = 0, sent = 0, pn = 0;
    uint8_t dg[1500];
    for (int rec = 0; in.n && rec < 64; rec++) {
        uint8_t op = fz_u8(&in);
        const uint8_t *p;
        switch (op % 4) {
        case 0:
        case 1: {
            const uint8_t *tok = NULL;
            size_t tlen = 0;
            if (op & 0x10) tlen = fz_bytes(&in, fz_u8(&in), &tok);
            size_t n = fz_bytes(&in, fz_u16(&in) % 1300, &p);
            size_t len = initial(pn++, tok, tlen, p, n, dg, sizeof(dg));
            if (!len) break;
            recvd += len;
            sim_inject(s, 1, dg, len);
            break;
        }
        case 2: {
            size_t n = fz_bytes(&in, fz_u16(&in) % sizeof(dg), &p);
            memcpy(dg, p, n);
            recvd += n;
            sim_inject(s, 1, dg, n);
            break;
        }
        default:
            s->now += (qc_ts)fz_u8(&in) * 10 * QC_MS;
            if (s->server && qc_conn_next_timeout(s->server) <= s->now)
                qc_conn_on_timeout(s->server, s->now);
            break;
        }
        sent += drain(s);
        FZ_CHECK(sent <= 3 * recvd);
    }
    if (s->server) {
        const qc_close_info *ci = qc_conn_close_info(s->server);
        if (ci->set && ci->local && !ci->app && !ci->idle)
            FZ_CHECK(ci->error_code <= 0x10 ||
                     (ci->error_code >= 0x100 && ci->error_code <= 0x1ff));
    }
    return 0;
}
