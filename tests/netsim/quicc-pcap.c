/*
 * quicc-pcap: reads a capture written by quicc-netsim --pcap and reports what the Interop
 * Runner checks on the wire without keys: the client's first flights. For every client
 * Initial it removes the Initial protection (the keys derive from the packet's DCID, RFC
 * 9001 §5.2), finds the ClientHello at CRYPTO offset 0 and prints, once per connection
 * (distinct original DCID):
 *   clienthello dcid=HEX ciphers=1301,1302,1303
 * and at the end two summary lines:
 *   clienthellos=N versions=00000001[,...] (long-header versions seen in either direction)
 *   wire first_initial=00000001 handshake=6b3343cf[,...]
 * (the version of the first client Initial, and those of Handshake packets both ways: what
 * the runner's v2 case checks), and the ECN marks of the IP headers per direction:
 *   ecn c2s_ect0=N c2s_ect1=N c2s_ce=N s2c_ect0=N s2c_ect1=N s2c_ce=N
 *   ip ipv6=N (datagrams carried over IPv6)
 *   zerortt packets=N bytes=N (the client's 0-RTT packets)
 * Usage: quicc-pcap FILE.pcap
 */
#include "core/crypto.h"
#include "core/frame.h"
#include "core/packet.h"
#include "tls/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONNS 256

static qc_cid seen[MAX_CONNS];
static size_t nseen;
static uint32_t versions[16];
static size_t nversions;

static uint32_t hs_versions[16];
static size_t nhs_versions;
static uint32_t first_initial;
static uint64_t ecn[2][4];             /* [to the server?][codepoint] */
static uint64_t ipv6;                  /* datagrams over IPv6 */
static uint64_t zrtt_pkts, zrtt_bytes; /* the client's 0-RTT packets */

static void note(uint32_t *set, size_t *n, uint32_t v) {
    for (size_t i = 0; i < *n; i++)
        if (set[i] == v) return;
    if (*n < 16) set[(*n)++] = v;
}

static void print_set(const uint32_t *set, size_t n) {
    for (size_t i = 0; i < n; i++)
        printf("%s%08x", i ? "," : "", set[i]);
}

/* Prints the cipher suites of a ClientHello (TLS handshake message at data). */
static void client_hello(const qc_cid *dcid, const uint8_t *d, size_t n) {
    if (n < 4 || d[0] != 1) return;
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

static void client_initial(uint8_t *pkt, const qc_pkt_hdr *h) {
    uint8_t cs[32], ss[32];
    qc_keys k;
    if (qc_initial_secrets(&qc_gnutls_crypto, h->version, &h->dcid, cs, ss) != 0 ||
        qc_keys_from_secret(&qc_gnutls_crypto, &k, qc_version_find(h->version),
                            QC_SUITE_AES_128_GCM_SHA256, cs, 32) != 0)
        return;
    uint64_t tpn;
    size_t pnl;
    uint8_t *payload;
    size_t plen;
    if (qc_packet_unprotect_header(&qc_gnutls_crypto, &k, pkt, h->pkt_len, h->pn_offset, &tpn,
                                   &pnl) == 0 &&
        qc_packet_decrypt(&qc_gnutls_crypto, &k, pkt, h->pkt_len, h->pn_offset + pnl, tpn, &payload,
                          &plen) == 0) {
        qc_rd r = qc_rd_init(payload, plen);
        qc_frame f;
        while (qc_rd_left(&r) && qc_frame_decode(&r, &f) == 0)
            if (f.type == QC_FT_CRYPTO && f.u.crypto.offset == 0)
                client_hello(&h->dcid, f.u.crypto.data, f.u.crypto.len);
    }
    qc_keys_clear(&qc_gnutls_crypto, &k);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: quicc-pcap FILE.pcap\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    uint32_t gh[6];
    if (!f || fread(gh, sizeof(gh), 1, f) != 1 || gh[0] != 0xa1b2c3d4 || gh[5] != 101) {
        fprintf(stderr, "quicc-pcap: %s: not a quicc-netsim capture\n", argv[1]);
        return 1;
    }
    static uint8_t buf[70000];
    uint32_t rec[4];
    uint16_t server_port = 0;
    while (fread(rec, sizeof(rec), 1, f) == 1) {
        if (rec[2] > sizeof(buf) || fread(buf, 1, rec[2], f) != rec[2]) break;
        /* IPv4 (20-byte header, TOS byte) or IPv6 (40 bytes, traffic class), then UDP. */
        bool v6 = (buf[0] >> 4) == 6;
        size_t hl = (v6 ? 40 : 20) + 8;
        if (rec[2] < hl) continue;
        uint8_t tos = v6 ? (uint8_t)((buf[0] & 0x0f) << 4 | buf[1] >> 4) : buf[1];
        uint16_t dport = (uint16_t)(buf[hl - 6] << 8 | buf[hl - 5]);
        if (!server_port) server_port = dport; /* the first datagram goes to the server */
        ecn[dport == server_port][tos & 3]++;
        if (v6) ipv6++;
        uint8_t *dg = buf + hl;
        size_t len = rec[2] - hl, off = 0;
        while (off < len) {
            qc_pkt_hdr h;
            if (qc_pkt_parse(dg + off, len - off, 0, &h) != 0 || !qc_pkt_is_long(h.type)) break;
            note(versions, &nversions, h.version);
            if (h.type == QC_PT_HANDSHAKE) note(hs_versions, &nhs_versions, h.version);
            if (h.type == QC_PT_0RTT && dport == server_port) {
                zrtt_pkts++;
                zrtt_bytes += h.pkt_len;
            }
            if (dport == server_port && h.type == QC_PT_INITIAL) {
                if (!first_initial) first_initial = h.version;
                client_initial(dg + off, &h);
            }
            off += h.pkt_len;
        }
    }
    fclose(f);
    printf("clienthellos=%zu versions=", nseen);
    print_set(versions, nversions);
    printf("\nwire first_initial=%08x handshake=", first_initial);
    print_set(hs_versions, nhs_versions);
    printf(
        "\necn c2s_ect0=%llu c2s_ect1=%llu c2s_ce=%llu s2c_ect0=%llu s2c_ect1=%llu s2c_ce=%llu\n",
        (unsigned long long)ecn[1][2], (unsigned long long)ecn[1][1], (unsigned long long)ecn[1][3],
        (unsigned long long)ecn[0][2], (unsigned long long)ecn[0][1],
        (unsigned long long)ecn[0][3]);
    printf("ip ipv6=%llu\n", (unsigned long long)ipv6);
    printf("zerortt packets=%llu bytes=%llu\n", (unsigned long long)zrtt_pkts,
           (unsigned long long)zrtt_bytes);
    return 0;
}
