/*
 * quicc-pcap: reads a capture written by quicc-netsim --pcap and reports what the Interop
 * Runner checks on the wire.
 *
 * Without keys it removes the Initial protection of every client Initial (the keys derive
 * from the packet's DCID, RFC 9001 §5.2), finds the ClientHello at CRYPTO offset 0 and
 * prints, once per connection (distinct original DCID):
 *   clienthello dcid=HEX ciphers=1301,1302,1303
 * and at the end these summary lines:
 *   clienthellos=N versions=00000001[,...] (long-header versions seen in either direction)
 *   wire first_initial=00000001 handshake=6b3343cf[,...]
 *     (the version of the first client Initial, and those of Handshake packets both ways:
 *     what the runner's v2 case checks)
 *   ecn c2s_ect0=N c2s_ect1=N c2s_ce=N s2c_ect0=N s2c_ect1=N s2c_ce=N (IP header marks)
 *   ip ipv6=N (datagrams carried over IPv6)
 *   zerortt packets=N bytes=N (the client's 0-RTT packets)
 *   retry packets=N token_initials=N (Retry packets, and client Initials with a token after
 *     the first Retry)
 *   client addresses=N (the client addresses and ports the server saw: NAT rebinding)
 *
 * With --keylog FILE (an SSLKEYLOGFILE written by the client) it decrypts every packet
 * of every connection whose secrets the file holds, as the runner does with its keylog,
 * and prints one line per connection (in the order of their ClientHellos):
 *   conn N version=V cipher=1301 certificate=0|1 c2s_0rtt=B c2s_1rtt=B s2c_1rtt=B
 *     c2s_phases=0,1 s2c_phases=0 c2s_ack_ecn=N s2c_ack_ecn=N
 *     amp_c2s=B amp_s2c=B s2c_hs_crypto=B
 *     c2s_challenges=N s2c_challenges=N c2s_responses=N s2c_responses=N
 *     new_paths=N new_paths_challenged=N undecrypted=N
 * where 0rtt/1rtt are decrypted payload bytes per direction, phases the 1-RTT key phases
 * seen, ack_ecn the ACK frames carrying ECN counts, amp_* the datagram bytes each way
 * before the client's first Handshake packet (the amplification limit), s2c_hs_crypto the
 * server's Handshake CRYPTO bytes, certificate whether that flight holds a Certificate,
 * and new_paths the times the server started sending to a new client address (with
 * new_paths_challenged of them opening with a PATH_CHALLENGE).
 *
 * With --trace N as well, it prints every packet of connection N as it goes: time,
 * direction, type, packet number and frame types (what failed is then plain to see).
 *
 * Usage: quicc-pcap [--keylog FILE [--trace N]] FILE.pcap
 */
#include "core/crypto.h"
#include "core/frame.h"
#include "core/packet.h"
#include "core/version.h"
#include "tls/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONNS 256
#define MAX_CIDS 32
#define HS_CRYPTO_MAX 65536

enum { S2C = 0, C2S = 1 };

static const qc_crypto_provider *cp = &qc_gnutls_crypto;

static qc_cid seen[MAX_CONNS];
static size_t nseen;
static uint32_t versions[16];
static size_t nversions;
static uint32_t hs_versions[16];
static size_t nhs_versions;
static uint32_t first_initial;
static uint64_t ecn[2][4];             /* [direction][codepoint] */
static uint64_t ipv6;                  /* datagrams over IPv6 */
static uint64_t zrtt_pkts, zrtt_bytes; /* the client's 0-RTT packets */
static uint64_t retries, retry_tokens; /* Retry packets; client Initials with a token after */
static uint8_t client_addrs[64][18];   /* client addresses (IP, port) seen by the server */
static size_t nclient_addrs;

/* One secret of the key log. */
typedef struct {
    char label[40];
    uint8_t random[32];
    uint8_t secret[QC_MAX_SECRET_LEN];
    size_t len;
} keylog_line;
static keylog_line *keylog;
static size_t nkeylog;

/* Keys of one direction of one epoch, derived on first use. */
typedef struct {
    qc_keys k;
    bool have;
} slot;

/* What quicc-pcap knows of one connection. */
typedef struct {
    uint8_t random[32];
    qc_cid key_dcid;          /* the DCID the Initial keys derive from */
    bool retried;             /* a Retry came: the next client Initial's DCID is the new key_dcid */
    uint32_t version;         /* the version of the server's latest long header */
    qc_cid cids[2][MAX_CIDS]; /* [S2C]: the client's IDs, [C2S]: the server's IDs */
    size_t ncids[2];
    uint16_t suite_wire; /* the ServerHello's cipher suite */
    slot hs[2], app[2], app_next[2], app_prev[2], zrtt;
    uint64_t gen[2];        /* 1-RTT key generation per direction */
    uint64_t largest[3][2]; /* per space and direction, +1 (0: none yet) */
    uint8_t phases[2];      /* key phases seen per direction (bit 0, bit 1) */
    uint64_t bytes_0rtt, bytes_1rtt[2], ack_ecn[2], challenges[2], responses[2];
    uint64_t amp[2]; /* datagram bytes before the client's first Handshake packet */
    bool client_hs_seen;
    uint8_t *hs_crypto; /* the server's Handshake CRYPTO stream */
    uint8_t *hs_filled;
    size_t hs_crypto_len;
    uint8_t s2c_addr[18]; /* client address of the latest server datagram */
    bool have_addr;
    uint64_t new_paths, new_paths_challenged, undecrypted;
} conn;
static conn *conns[MAX_CONNS];
static size_t nconns;
static long trace_conn = -1; /* --trace N */
static double rec_time;      /* the current record's time (s) */
static double first_time = -1;

static void note(uint32_t *set, size_t *n, uint32_t v) {
    for (size_t i = 0; i < *n; i++)
        if (set[i] == v) return;
    if (*n < 16) set[(*n)++] = v;
}

static void print_set(const uint32_t *set, size_t n) {
    for (size_t i = 0; i < n; i++)
        printf("%s%08x", i ? "," : "", set[i]);
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes up to max bytes of hex; returns the count, or 0 on a bad digit or odd length. */
static size_t unhex(const char *s, uint8_t *out, size_t max) {
    size_t n = 0;
    while (s[0] && s[0] != '\n' && s[0] != ' ') {
        int hi = hexval(s[0]), lo = s[1] ? hexval(s[1]) : -1;
        if (hi < 0 || lo < 0 || n == max) return 0;
        out[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    return n;
}

static int load_keylog(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char label[40], rnd[80], sec[160];
        if (sscanf(line, "%39s %79s %159s", label, rnd, sec) != 3) continue;
        keylog_line kl = {0};
        memcpy(kl.label, label, sizeof(label));
        kl.len = unhex(sec, kl.secret, sizeof(kl.secret));
        if (unhex(rnd, kl.random, 32) != 32 || !kl.len) continue;
        keylog_line *n = realloc(keylog, (nkeylog + 1) * sizeof(*n));
        if (!n) break;
        keylog = n;
        keylog[nkeylog++] = kl;
    }
    fclose(f);
    return 0;
}

static const keylog_line *find_secret(const conn *c, const char *label) {
    for (size_t i = 0; i < nkeylog; i++)
        if (!strcmp(keylog[i].label, label) && !memcmp(keylog[i].random, c->random, 32))
            return &keylog[i];
    return NULL;
}

static enum qc_suite suite_of(uint16_t wire) {
    return wire == 0x1301   ? QC_SUITE_AES_128_GCM_SHA256
           : wire == 0x1302 ? QC_SUITE_AES_256_GCM_SHA384
           : wire == 0x1303 ? QC_SUITE_CHACHA20_POLY1305_SHA256
                            : QC_SUITE_NONE;
}

/* Keys from a key-log secret; the suite from the ServerHello, or (for 0-RTT, which comes
 * first) the one suite whose hash has the secret's length, or AES-128 before ChaCha20. */
static qc_keys *slot_keys(conn *c, slot *s, const char *label, enum qc_suite try_suite) {
    if (s->have) return &s->k;
    const keylog_line *kl = find_secret(c, label);
    const qc_version *v = qc_version_find(c->version);
    enum qc_suite suite = suite_of(c->suite_wire);
    if (!suite) suite = try_suite;
    if (!kl || !v || !suite || qc_suite_secret_len(suite) != kl->len ||
        qc_keys_from_secret(cp, &s->k, v, suite, kl->secret, kl->len) != 0)
        return NULL;
    s->have = true;
    return &s->k;
}

static void slot_clear(slot *s) {
    if (s->have) qc_keys_clear(cp, &s->k);
    s->have = false;
}

static bool has_cid(const conn *c, int d, const qc_cid *id) {
    for (size_t i = 0; i < c->ncids[d]; i++)
        if (qc_cid_eq(&c->cids[d][i], id)) return true;
    return false;
}

static void add_cid(conn *c, int d, const qc_cid *id) {
    if (!has_cid(c, d, id) && c->ncids[d] < MAX_CIDS) c->cids[d][c->ncids[d]++] = *id;
}

/* The connection a long header belongs to (its DCID is one the receiver issued, or the
 * client's original DCID). */
static conn *find_long(int d, const qc_cid *dcid) {
    for (size_t i = nconns; i-- > 0;)
        if (has_cid(conns[i], d, dcid) || (d == C2S && qc_cid_eq(&conns[i]->key_dcid, dcid)))
            return conns[i];
    return NULL;
}

/* The connection a short header belongs to, and its DCID's length. */
static conn *find_short(int d, const uint8_t *dg, size_t len, size_t *cid_len) {
    for (size_t i = nconns; i-- > 0;)
        for (size_t j = 0; j < conns[i]->ncids[d]; j++) {
            const qc_cid *id = &conns[i]->cids[d][j];
            if (1 + (size_t)id->len <= len && !memcmp(dg + 1, id->id, id->len)) {
                *cid_len = id->len;
                return conns[i];
            }
        }
    return NULL;
}

/* Prints the cipher suites of a ClientHello (TLS handshake message at data). */
static void print_client_hello(const qc_cid *dcid, const uint8_t *d, size_t n) {
    size_t p = 4 + 2 + 32; /* type, length, legacy_version, random */
    if (p >= n) return;
    p += 1 + d[p]; /* legacy_session_id */
    if (p + 2 > n) return;
    size_t cl = (size_t)d[p] << 8 | d[p + 1];
    p += 2;
    if (p + cl > n) return;
    for (size_t i = 0; i < nseen; i++)
        if (qc_cid_eq(&seen[i], dcid)) return; /* a retransmission */
    if (nseen < MAX_CONNS) seen[nseen++] = *dcid;
    printf("clienthello dcid=");
    for (size_t i = 0; i < dcid->len; i++)
        printf("%02x", dcid->id[i]);
    printf(" ciphers=");
    for (size_t i = 0; i + 1 < cl; i += 2)
        printf("%s%02x%02x", i ? "," : "", d[p + i], d[p + i + 1]);
    printf("\n");
}

/* A ClientHello at CRYPTO offset 0 of a client Initial: the connection of its random (a
 * new one, or one that restarted after a Retry or Version Negotiation). */
static conn *client_hello(const qc_pkt_hdr *h, const uint8_t *d, size_t n) {
    if (n < 4 + 2 + 32 || d[0] != 1) return NULL;
    print_client_hello(&h->dcid, d, n);
    for (size_t i = 0; i < nconns; i++)
        if (!memcmp(conns[i]->random, d + 6, 32)) {
            conns[i]->key_dcid = h->dcid;
            conns[i]->version = h->version;
            return conns[i];
        }
    if (nconns == MAX_CONNS) return NULL;
    conn *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    memcpy(c->random, d + 6, 32);
    c->key_dcid = h->dcid;
    c->version = h->version;
    add_cid(c, S2C, &h->scid);
    conns[nconns++] = c;
    return c;
}

static void server_hello(conn *c, const uint8_t *d, size_t n) {
    size_t p = 4 + 2 + 32;
    if (n < p + 1 || d[0] != 2) return;
    p += 1 + d[p];
    if (p + 2 <= n) c->suite_wire = (uint16_t)(d[p] << 8 | d[p + 1]);
}

static void hs_crypto(conn *c, uint64_t off, const uint8_t *data, size_t len) {
    if (!c->hs_crypto) {
        c->hs_crypto = calloc(1, HS_CRYPTO_MAX);
        c->hs_filled = calloc(1, HS_CRYPTO_MAX);
        if (!c->hs_crypto || !c->hs_filled) return;
    }
    for (size_t i = 0; i < len && off + i < HS_CRYPTO_MAX; i++) {
        c->hs_crypto[off + i] = data[i];
        c->hs_filled[off + i] = 1;
    }
    if (off + len > c->hs_crypto_len) c->hs_crypto_len = (size_t)(off + len);
}

/* Whether the server's Handshake flight holds a Certificate (or CompressedCertificate). */
static bool has_certificate(const conn *c) {
    size_t p = 0;
    while (c->hs_crypto && p + 4 <= c->hs_crypto_len && p + 4 <= HS_CRYPTO_MAX && c->hs_filled[p] &&
           c->hs_filled[p + 3]) {
        if (c->hs_crypto[p] == 11 || c->hs_crypto[p] == 25) return true;
        p += 4 + ((size_t)c->hs_crypto[p + 1] << 16 | (size_t)c->hs_crypto[p + 2] << 8 |
                  c->hs_crypto[p + 3]);
    }
    return false;
}

/* The frames of a decrypted packet; returns whether they include a PATH_CHALLENGE. The
 * first client Initial's ClientHello makes the connection (*cp_out). */
static bool frames(conn **cpp, int d, const qc_pkt_hdr *h, const uint8_t *pl, size_t n) {
    qc_rd r = qc_rd_init(pl, n);
    qc_frame f;
    bool challenge = false;
    while (qc_rd_left(&r) && qc_frame_decode(&r, &f) == 0) {
        conn *c = *cpp;
        if (f.type == QC_FT_CRYPTO && h->type == QC_PT_INITIAL && f.u.crypto.offset == 0) {
            if (d == C2S && !c) *cpp = client_hello(h, f.u.crypto.data, f.u.crypto.len);
            if (d == S2C && c) server_hello(c, f.u.crypto.data, f.u.crypto.len);
        }
        if (!c) continue;
        if (f.type == QC_FT_CRYPTO && h->type == QC_PT_HANDSHAKE && d == S2C)
            hs_crypto(c, f.u.crypto.offset, f.u.crypto.data, f.u.crypto.len);
        if (f.type == QC_FT_ACK_ECN) c->ack_ecn[d]++;
        if (f.type == QC_FT_NEW_CONNECTION_ID) add_cid(c, d == C2S ? S2C : C2S, &f.u.new_cid.cid);
        if (f.type == QC_FT_PATH_CHALLENGE) c->challenges[d]++, challenge = true;
        if (f.type == QC_FT_PATH_RESPONSE) c->responses[d]++;
    }
    return challenge;
}

/* Removes the header protection of a copy of the packet and decrypts it with k (and, for
 * 1-RTT, the key phase's generation). Returns 0 with the payload in scratch. */
static int open_packet(conn *c, int d, qc_keys *k, const uint8_t *pkt, const qc_pkt_hdr *h,
                       uint8_t *scratch, uint8_t **pl, size_t *pln) {
    memcpy(scratch, pkt, h->pkt_len);
    uint64_t tpn;
    size_t pnl;
    if (qc_packet_unprotect_header(cp, k, scratch, h->pkt_len, h->pn_offset, &tpn, &pnl) != 0)
        return -1;
    enum qc_pn_space sp = qc_pkt_space(h->type);
    uint64_t pn = qc_pn_decode(c->largest[sp][d] ? c->largest[sp][d] - 1 : 0, tpn, pnl);
    if (h->type == QC_PT_1RTT) {
        int phase = (scratch[0] >> 2) & 1;
        if (phase != (int)(c->gen[d] & 1)) {
            /* the next generation, or a late packet of the previous one */
            if (!c->app_next[d].have && qc_keys_update(cp, &c->app_next[d].k, k) == 0)
                c->app_next[d].have = true;
            uint8_t *copy = scratch + h->pkt_len;
            memcpy(copy, scratch, h->pkt_len);
            if (c->app_prev[d].have && qc_packet_decrypt(cp, &c->app_prev[d].k, copy, h->pkt_len,
                                                         h->pn_offset + pnl, pn, pl, pln) == 0) {
                memmove(scratch, copy, h->pkt_len);
                *pl = scratch + (*pl - copy);
                c->phases[d] |= (uint8_t)(1 << phase);
                return 0;
            }
            if (!c->app_next[d].have) return -1;
            k = &c->app_next[d].k;
            if (qc_packet_decrypt(cp, k, scratch, h->pkt_len, h->pn_offset + pnl, pn, pl, pln))
                return -1;
            slot_clear(&c->app_prev[d]);
            c->app_prev[d] = c->app[d];
            c->app[d] = c->app_next[d];
            c->app_next[d].have = false;
            c->gen[d]++;
        } else if (qc_packet_decrypt(cp, k, scratch, h->pkt_len, h->pn_offset + pnl, pn, pl, pln)) {
            return -1;
        }
        c->phases[d] |= (uint8_t)(1 << phase);
    } else if (qc_packet_decrypt(cp, k, scratch, h->pkt_len, h->pn_offset + pnl, pn, pl, pln)) {
        return -1;
    }
    if (pn + 1 > c->largest[sp][d]) c->largest[sp][d] = pn + 1;
    return 0;
}

/* --trace: one line per packet of the traced connection. */
static void trace(int d, const qc_pkt_hdr *h, const uint8_t *pl, size_t n) {
    static const char *types[] = {"Initial", "0-RTT", "Handshake", "Retry", "1-RTT", "VN"};
    printf("trace %.6f %s %s len=%zu frames", rec_time - first_time, d == C2S ? "c2s" : "s2c",
           types[h->type], h->pkt_len);
    qc_rd r = qc_rd_init(pl, n);
    qc_frame f;
    while (qc_rd_left(&r) && qc_frame_decode(&r, &f) == 0) {
        printf(" %llx", (unsigned long long)f.type);
        if (f.type == QC_FT_ACK || f.type == QC_FT_ACK_ECN)
            printf("(%llu)", (unsigned long long)f.u.ack.largest);
        if (f.type == QC_FT_CRYPTO)
            printf("(%llu+%zu)", (unsigned long long)f.u.crypto.offset, f.u.crypto.len);
        if (f.type >= QC_FT_STREAM && f.type <= 0x0f)
            printf("(%llu:%llu+%zu%s)", (unsigned long long)f.u.stream.stream_id,
                   (unsigned long long)f.u.stream.offset, f.u.stream.len,
                   f.u.stream.fin ? " fin" : "");
        if (f.type == QC_FT_CONNECTION_CLOSE || f.type == QC_FT_CONNECTION_CLOSE_APP)
            printf("(0x%llx frame 0x%llx \"%.*s\")", (unsigned long long)f.u.close.error_code,
                   (unsigned long long)f.u.close.frame_type, (int)f.u.close.reason_len,
                   (const char *)f.u.close.reason);
    }
    printf("\n");
}

/* The keys a packet of connection c needs (Initial keys into *tmp). */
static qc_keys *keys_for(conn *c, int d, const qc_pkt_hdr *h, qc_keys *tmp, bool *tmp_used) {
    static const char *hs_label[2] = {"SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                      "CLIENT_HANDSHAKE_TRAFFIC_SECRET"};
    static const char *app_label[2] = {"SERVER_TRAFFIC_SECRET_0", "CLIENT_TRAFFIC_SECRET_0"};
    switch (h->type) {
    case QC_PT_INITIAL: {
        uint8_t cs[32], ss[32];
        const qc_cid *basis = c ? &c->key_dcid : &h->dcid;
        if (qc_initial_secrets(cp, h->version, basis, cs, ss) != 0 ||
            qc_keys_from_secret(cp, tmp, qc_version_find(h->version), QC_SUITE_AES_128_GCM_SHA256,
                                d == C2S ? cs : ss, 32) != 0)
            return NULL;
        *tmp_used = true;
        return tmp;
    }
    case QC_PT_0RTT: {
        qc_keys *k =
            slot_keys(c, &c->zrtt, "CLIENT_EARLY_TRAFFIC_SECRET", QC_SUITE_AES_128_GCM_SHA256);
        return k ? k
                 : slot_keys(c, &c->zrtt, "CLIENT_EARLY_TRAFFIC_SECRET",
                             QC_SUITE_AES_256_GCM_SHA384);
    }
    case QC_PT_HANDSHAKE:
        return slot_keys(c, &c->hs[d], hs_label[d], QC_SUITE_NONE);
    case QC_PT_1RTT:
        return slot_keys(c, &c->app[d], app_label[d], QC_SUITE_NONE);
    default:
        return NULL;
    }
}

/* One packet of a datagram in direction d: counts it and, given keys, decrypts it. */
static void packet(conn **cpp, int d, const uint8_t *pkt, const qc_pkt_hdr *h, bool decrypt,
                   bool *challenge) {
    static uint8_t scratch[2 * 65536];
    conn *c = *cpp;
    if (h->type == QC_PT_INITIAL && d == C2S && c && c->retried) {
        c->key_dcid = h->dcid; /* the Initial keys after a Retry */
        c->retried = false;
    }
    if (!c && !(h->type == QC_PT_INITIAL && d == C2S)) return;
    if (c && d == S2C && qc_pkt_is_long(h->type)) {
        if (h->type != QC_PT_VN) add_cid(c, C2S, &h->scid);
        if (h->type == QC_PT_RETRY) {
            c->retried = true;
            return;
        }
        if (h->type != QC_PT_VN) c->version = h->version;
    }
    if (!decrypt && !(h->type == QC_PT_INITIAL && d == C2S)) return;
    qc_keys tmp, *k;
    bool tmp_used = false;
    uint8_t *pl;
    size_t pln;
    k = keys_for(c, d, h, &tmp, &tmp_used);
    int rc = k ? open_packet(c ? c : &(conn){0}, d, k, pkt, h, scratch, &pl, &pln) : -1;
    if (tmp_used) qc_keys_clear(cp, &tmp);
    if (rc != 0) {
        if (c && decrypt && k) c->undecrypted++;
        return;
    }
    if (frames(cpp, d, h, pl, pln)) *challenge = true;
    c = *cpp;
    if (!c) return;
    if (trace_conn >= 0 && trace_conn < (long)nconns && conns[trace_conn] == c)
        trace(d, h, pl, pln);
    if (h->type == QC_PT_0RTT) c->bytes_0rtt += pln;
    if (h->type == QC_PT_1RTT) c->bytes_1rtt[d] += pln;
}

/* One datagram between the client (at addr, 18 bytes: IP and port) and the server. */
static void datagram(int d, uint8_t *dg, size_t len, const uint8_t *addr, bool decrypt) {
    size_t off = 0;
    conn *first = NULL;
    bool challenge = false, new_path = false;
    while (off < len) {
        qc_pkt_hdr h;
        conn *c = NULL;
        size_t cid_len = 0;
        if (dg[off] & 0x80) {
            if (qc_pkt_parse(dg + off, len - off, 0, &h) != 0) break;
            note(versions, &nversions, h.version);
            if (h.type == QC_PT_HANDSHAKE) note(hs_versions, &nhs_versions, h.version);
            if (h.type == QC_PT_0RTT && d == C2S) zrtt_pkts++, zrtt_bytes += h.pkt_len;
            if (d == C2S && h.type == QC_PT_INITIAL && !first_initial) first_initial = h.version;
            if (d == S2C && h.type == QC_PT_RETRY) retries++;
            if (d == C2S && h.type == QC_PT_INITIAL && retries && h.token_len) retry_tokens++;
            c = find_long(d, &h.dcid);
        } else {
            c = find_short(d, dg + off, len - off, &cid_len);
            if (!c || qc_pkt_parse(dg + off, len - off, cid_len, &h) != 0) break;
        }
        if (c && !first) {
            first = c;
            new_path = d == S2C && c->have_addr && memcmp(c->s2c_addr, addr, 18) != 0;
        }
        if (c && d == C2S && h.type == QC_PT_HANDSHAKE) c->client_hs_seen = true;
        packet(&c, d, dg + off, &h, decrypt, &challenge);
        if (c && !first) first = c;
        off += h.pkt_len;
    }
    if (!first) return;
    if (!first->client_hs_seen) first->amp[d] += len;
    if (d == S2C) {
        if (new_path) first->new_paths++, first->new_paths_challenged += challenge;
        memcpy(first->s2c_addr, addr, 18);
        first->have_addr = true;
    }
}

static void print_conn(size_t i, const conn *c) {
    printf("conn %zu version=%08x cipher=%04x certificate=%d c2s_0rtt=%llu c2s_1rtt=%llu "
           "s2c_1rtt=%llu c2s_phases=",
           i, c->version, c->suite_wire, has_certificate(c), (unsigned long long)c->bytes_0rtt,
           (unsigned long long)c->bytes_1rtt[C2S], (unsigned long long)c->bytes_1rtt[S2C]);
    for (int d = C2S; d >= S2C; d--) {
        if (d == S2C) printf(" s2c_phases=");
        printf("%s%s%s", c->phases[d] & 1 ? "0" : "", c->phases[d] == 3 ? "," : "",
               c->phases[d] & 2 ? "1" : "");
    }
    printf(" c2s_ack_ecn=%llu s2c_ack_ecn=%llu amp_c2s=%llu amp_s2c=%llu s2c_hs_crypto=%zu "
           "c2s_challenges=%llu s2c_challenges=%llu c2s_responses=%llu s2c_responses=%llu "
           "new_paths=%llu new_paths_challenged=%llu undecrypted=%llu\n",
           (unsigned long long)c->ack_ecn[C2S], (unsigned long long)c->ack_ecn[S2C],
           (unsigned long long)c->amp[C2S], (unsigned long long)c->amp[S2C], c->hs_crypto_len,
           (unsigned long long)c->challenges[C2S], (unsigned long long)c->challenges[S2C],
           (unsigned long long)c->responses[C2S], (unsigned long long)c->responses[S2C],
           (unsigned long long)c->new_paths, (unsigned long long)c->new_paths_challenged,
           (unsigned long long)c->undecrypted);
}

static void conn_free(conn *c) {
    for (int d = 0; d < 2; d++) {
        slot_clear(&c->hs[d]);
        slot_clear(&c->app[d]);
        slot_clear(&c->app_next[d]);
        slot_clear(&c->app_prev[d]);
    }
    slot_clear(&c->zrtt);
    free(c->hs_crypto);
    free(c->hs_filled);
    free(c);
}

/* Reads the capture; each record is an IPv4 (20-byte header, TOS byte) or IPv6 (40 bytes,
 * traffic class) datagram with UDP. The first datagram goes to the server. */
static int read_capture(FILE *f, bool decrypt) {
    static uint8_t buf[70000];
    uint32_t rec[4];
    uint16_t server_port = 0;
    while (fread(rec, sizeof(rec), 1, f) == 1) {
        if (rec[2] > sizeof(buf) || fread(buf, 1, rec[2], f) != rec[2]) return -1;
        rec_time = rec[0] + rec[1] / 1e6;
        if (first_time < 0) first_time = rec_time;
        bool v6 = (buf[0] >> 4) == 6;
        size_t hl = (v6 ? 40 : 20) + 8;
        if (rec[2] < hl) continue;
        uint8_t tos = v6 ? (uint8_t)((buf[0] & 0x0f) << 4 | buf[1] >> 4) : buf[1];
        uint16_t dport = (uint16_t)(buf[hl - 6] << 8 | buf[hl - 5]);
        if (!server_port) server_port = dport;
        int d = dport == server_port ? C2S : S2C;
        ecn[d][tos & 3]++;
        if (v6) ipv6++;
        /* the client's address: IP and port (source to the server, destination back) */
        uint8_t addr[18] = {0};
        size_t alen = v6 ? 16 : 4, aoff = d == C2S ? (v6 ? 8 : 12) : (v6 ? 24 : 16);
        memcpy(addr, buf + aoff, alen);
        memcpy(addr + 16, buf + hl - 8 + (d == C2S ? 0 : 2), 2);
        bool known = false;
        for (size_t i = 0; i < nclient_addrs && !known; i++)
            known = !memcmp(client_addrs[i], addr, 18);
        if (!known && nclient_addrs < 64) memcpy(client_addrs[nclient_addrs++], addr, 18);
        datagram(d, buf + hl, rec[2] - hl, addr, decrypt);
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *keylog_path = NULL;
    if (argc >= 4 && !strcmp(argv[1], "--keylog")) keylog_path = argv[2];
    if (argc == 6 && keylog_path && !strcmp(argv[3], "--trace")) trace_conn = atol(argv[4]);
    if (argc != 2 && !(keylog_path && (argc == 4 || (argc == 6 && trace_conn >= 0)))) {
        fprintf(stderr, "usage: quicc-pcap [--keylog FILE [--trace N]] FILE.pcap\n");
        return 2;
    }
    if (keylog_path && load_keylog(keylog_path) != 0) {
        fprintf(stderr, "quicc-pcap: %s: cannot read\n", keylog_path);
        return 1;
    }
    const char *path = argv[argc - 1];
    FILE *f = fopen(path, "rb");
    uint32_t gh[6];
    if (!f || fread(gh, sizeof(gh), 1, f) != 1 || gh[0] != 0xa1b2c3d4 || gh[5] != 101) {
        fprintf(stderr, "quicc-pcap: %s: not a quicc-netsim capture\n", path);
        if (f) fclose(f);
        return 1;
    }
    int rc = read_capture(f, keylog_path != NULL);
    fclose(f);
    printf("clienthellos=%zu versions=", nseen);
    print_set(versions, nversions);
    printf("\nwire first_initial=%08x handshake=", first_initial);
    print_set(hs_versions, nhs_versions);
    printf(
        "\necn c2s_ect0=%llu c2s_ect1=%llu c2s_ce=%llu s2c_ect0=%llu s2c_ect1=%llu s2c_ce=%llu\n",
        (unsigned long long)ecn[C2S][2], (unsigned long long)ecn[C2S][1],
        (unsigned long long)ecn[C2S][3], (unsigned long long)ecn[S2C][2],
        (unsigned long long)ecn[S2C][1], (unsigned long long)ecn[S2C][3]);
    printf("ip ipv6=%llu\n", (unsigned long long)ipv6);
    printf("zerortt packets=%llu bytes=%llu\n", (unsigned long long)zrtt_pkts,
           (unsigned long long)zrtt_bytes);
    printf("retry packets=%llu token_initials=%llu\n", (unsigned long long)retries,
           (unsigned long long)retry_tokens);
    printf("client addresses=%zu\n", nclient_addrs);
    for (size_t i = 0; i < nconns; i++) {
        if (keylog_path) print_conn(i, conns[i]);
        conn_free(conns[i]);
    }
    free(keylog);
    if (rc != 0) fprintf(stderr, "quicc-pcap: %s: truncated record\n", path);
    return rc != 0;
}
