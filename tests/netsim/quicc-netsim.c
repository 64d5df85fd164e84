/*
 * quicc-netsim: a user-space UDP relay that emulates the QUIC Interop Runner's network
 * between a client and a server on loopback (kernel netem is not available here).
 *
 *   client --> [LISTEN] quicc-netsim [one upstream socket per client address] --> SERVER
 *
 * Each direction (c2s: client to server, s2c: server to client) applies, in order: a drop
 * list by packet index (1-based, as the runner's "drop the 2nd to 7th packet"), blackhole
 * periods, random loss and corruption (rates in percent per packet, never more than N
 * packets in a row with --burst N, as the runner's drop-rate and corrupt-rate scenarios), a
 * bottleneck of a given rate with a queue of a given number of packets (tail drop), and a one-way
 * delay. Datagrams leave in order per direction. The relay ends after --duration seconds or on
 * SIGTERM/SIGINT (after forwarding what is still on its way: it goes on until 100 ms pass with
 * nothing arriving and nothing queued, 1 s at most past the longest delay, so that a client's
 * last packet, a CONNECTION_CLOSE, is not lost to the relay's end) and writes a summary per
 * direction (to --summary FILE, or stderr); --pcap FILE records what it forwarded (after
 * corruption) as IP/UDP packets (LINKTYPE_RAW) for wireshark or a test's own parser. Both addresses
 * are IPv4 or both IPv6. ECN marks (the two low bits of the IP TOS byte) travel on with each
 * datagram; --bleach clears them, --ce marks a share of the ECN-capable ones CE, and the summary
 * and the capture show them. Only loopback addresses are accepted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define MAX_DGRAM 65536
#define MAX_QUEUE 4096
#define MAX_LIST 64
#define MAX_HOLES 8

enum { C2S, S2C };
static const char *dir_name[] = {"c2s", "s2c"};

typedef struct pkt {
    uint64_t release; /* ns */
    int client;       /* index of the client mapping */
    size_t len;
    uint8_t *data;
    uint8_t ecn; /* the ECN codepoint it carries on (RFC 3168) */
    int up_gen;  /* s2c: the client's rebinding generation it came to */
} pkt;

typedef struct dir {
    /* configuration */
    double drop_pct, corrupt_pct;
    unsigned burst;      /* at most this many lost (or corrupted) in a row; 0: no limit */
    uint64_t delay_ns;   /* one way */
    uint64_t rate_bps;   /* 0: unlimited */
    unsigned queue_pkts; /* bottleneck queue (0: 100) */
    uint64_t drop_list[MAX_LIST];
    size_t ndrop_list;
    bool bleach;   /* clear ECN marks, as some middleboxes do */
    double ce_pct; /* mark this share of ECT packets CE, as a congested queue would */
    /* state */
    uint64_t index;                 /* packets seen */
    unsigned drop_run, corrupt_run; /* packets lost / corrupted in a row so far */
    unsigned max_drop_run;          /* the longest run of random losses */
    uint64_t link_free;             /* when the bottleneck is idle again */
    pkt q[MAX_QUEUE];
    size_t head, count;
    /* counters */
    uint64_t seen, forwarded, dropped_list, dropped_random, dropped_queue, dropped_hole, corrupted,
        bytes;
    uint64_t ecn_fwd[4]; /* forwarded with each ECN codepoint (after bleaching, CE marking) */
    uint64_t ce_marked;  /* set to CE here */
} dir;

/* A loopback address of either family. */
typedef struct addr {
    struct sockaddr_storage ss;
    socklen_t len;
} addr;

typedef struct client {
    addr from;           /* the client's address */
    int up;              /* socket towards the server */
    addr up_addr;        /* its address: the client's, as the server sees it */
    addr old_addr;       /* the one before the latest rebinding */
    int gen;             /* rebindings so far */
    uint16_t first_port; /* its first port toward the server (what the server logs) */
} client;

static dir dirs[2];
static client clients[MAX_CLIENTS];
static int nclients;
static int lfd = -1;
static addr server_addr, listen_addr;
static uint64_t holes[MAX_HOLES][2]; /* blackholes: [start, end) in ms since the first packet */
static int nholes;
static uint64_t t_first; /* ns, first packet seen */
/* NAT rebinding: every rebind_ms (the first after first_rebind_ms) each client gets a new
 * socket toward the server: a new port, and with rebind_addr a new 127.0.0.x address. */
static uint64_t rebind_ms, first_rebind_ms, next_rebind_ms;
static bool rebind_addr;
static unsigned rebinds;
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static FILE *pcap;
static volatile sig_atomic_t stop;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double rnd_pct(void) {
    return (double)(rnd() >> 11) / (double)(1ull << 53) * 100.0;
}

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

/* "127.x.y.z:PORT" or "[::1]:PORT"; loopback only. */
static int parse_addr(const char *s, addr *a) {
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof(host)) return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    memset(a, 0, sizeof(*a));
    uint16_t port = htons((uint16_t)atoi(colon + 1));
    if (host[0] == '[') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a->ss;
        size_t hl = strlen(host);
        if (hl < 3 || host[hl - 1] != ']') return -1;
        host[hl - 1] = 0;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = port;
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1) return -1;
        if (!IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr)) return -2; /* loopback only */
        a->len = sizeof(*a6);
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)&a->ss;
    a4->sin_family = AF_INET;
    a4->sin_port = port;
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) return -1;
    if ((ntohl(a4->sin_addr.s_addr) >> 24) != 127) return -2; /* loopback only */
    a->len = sizeof(*a4);
    return 0;
}

static bool addr_eq(const addr *a, const addr *b) {
    return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static bool is_v6(const addr *a) {
    return a->ss.ss_family == AF_INET6;
}

/* "c2s:2,3,4" or "s2c:1" */
static int parse_drop_list(const char *s) {
    int d = strncmp(s, "c2s:", 4) == 0 ? C2S : strncmp(s, "s2c:", 4) == 0 ? S2C : -1;
    if (d < 0) return -1;
    char *copy = strdup(s + 4), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(tok, '-');
        uint64_t lo = strtoull(tok, NULL, 10), hi = dash ? strtoull(dash + 1, NULL, 10) : lo;
        for (uint64_t i = lo; i <= hi && dirs[d].ndrop_list < MAX_LIST; i++)
            dirs[d].drop_list[dirs[d].ndrop_list++] = i;
    }
    free(copy);
    return 0;
}

static void pcap_header(void) {
    uint32_t h[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 101 /* LINKTYPE_RAW: IPv4 or v6 */};
    fwrite(h, sizeof(h), 1, pcap);
}

static uint16_t ip_checksum(const uint8_t *p, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Records a forwarded datagram as an IPv4/UDP or IPv6/UDP packet between the client (its
 * address as the server sees it) and the server, the ECN codepoint in its IP header. */
static void pcap_write(int d, const client *c, const pkt *pk) {
    if (!pcap) return;
    const uint8_t *data = pk->data;
    size_t len = pk->len;
    uint8_t ecn = pk->ecn;
    /* What the server sent to the address before a rebinding shows as sent there. */
    const addr *cl = d == S2C && pk->up_gen != c->gen ? &c->old_addr : &c->up_addr;
    const addr *src = d == C2S ? cl : &server_addr;
    const addr *dst = d == C2S ? &server_addr : cl;
    uint8_t hdr[48] = {0};
    size_t ip = is_v6(src) ? 40 : 20, total = ip + 8 + len;
    const uint8_t *sport, *dport;
    if (is_v6(src)) {
        const struct sockaddr_in6 *s6 = (const void *)&src->ss, *d6 = (const void *)&dst->ss;
        hdr[0] = 0x60 | (uint8_t)(ecn >> 4), hdr[1] = (uint8_t)(ecn << 4);
        hdr[4] = (uint8_t)((8 + len) >> 8), hdr[5] = (uint8_t)(8 + len);
        hdr[6] = 17, hdr[7] = 64;
        memcpy(hdr + 8, &s6->sin6_addr, 16);
        memcpy(hdr + 24, &d6->sin6_addr, 16);
        sport = (const uint8_t *)&s6->sin6_port, dport = (const uint8_t *)&d6->sin6_port;
    } else {
        const struct sockaddr_in *s4 = (const void *)&src->ss, *d4 = (const void *)&dst->ss;
        hdr[0] = 0x45, hdr[1] = ecn;
        hdr[2] = (uint8_t)(total >> 8), hdr[3] = (uint8_t)total;
        hdr[8] = 64, hdr[9] = 17;
        memcpy(hdr + 12, &s4->sin_addr, 4);
        memcpy(hdr + 16, &d4->sin_addr, 4);
        uint16_t cs = ip_checksum(hdr, 20);
        hdr[10] = (uint8_t)(cs >> 8), hdr[11] = (uint8_t)cs;
        sport = (const uint8_t *)&s4->sin_port, dport = (const uint8_t *)&d4->sin_port;
    }
    memcpy(hdr + ip, sport, 2);
    memcpy(hdr + ip + 2, dport, 2);
    hdr[ip + 4] = (uint8_t)((len + 8) >> 8), hdr[ip + 5] = (uint8_t)(len + 8);
    uint64_t t = now_ns();
    uint32_t rec[4] = {(uint32_t)(t / 1000000000ull), (uint32_t)(t % 1000000000ull / 1000),
                       (uint32_t)total, (uint32_t)total};
    fwrite(rec, sizeof(rec), 1, pcap);
    fwrite(hdr, ip + 8, 1, pcap);
    fwrite(data, 1, len, pcap);
}

static bool in_hole(uint64_t t) {
    uint64_t ms = (t - t_first) / 1000000ull;
    for (int i = 0; i < nholes; i++)
        if (ms >= holes[i][0] && ms < holes[i][1]) return true;
    return false;
}

/* Decides a datagram's fate and queues it for release. */
static void admit(int d, int ci, const uint8_t *data, size_t len, uint8_t ecn) {
    dir *x = &dirs[d];
    uint64_t t = now_ns();
    if (!t_first) t_first = t;
    x->seen++;
    uint64_t idx = ++x->index;
    for (size_t i = 0; i < x->ndrop_list; i++)
        if (x->drop_list[i] == idx) {
            x->dropped_list++;
            return;
        }
    if (in_hole(t)) {
        x->dropped_hole++;
        return;
    }
    /* The runner's drop-rate: each packet is lost with the given chance, but never more
     * than burst in a row. */
    if (x->drop_pct > 0 && (!x->burst || x->drop_run < x->burst) && rnd_pct() < x->drop_pct) {
        x->drop_run++;
        if (x->drop_run > x->max_drop_run) x->max_drop_run = x->drop_run;
        x->dropped_random++;
        return;
    }
    x->drop_run = 0;
    if (x->count == MAX_QUEUE || (x->queue_pkts && x->count >= x->queue_pkts)) {
        x->dropped_queue++;
        return;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return;
    memcpy(copy, data, len);
    if (len && x->corrupt_pct > 0 && (!x->burst || x->corrupt_run < x->burst) &&
        rnd_pct() < x->corrupt_pct) {
        x->corrupt_run++;
        copy[rnd() % len] ^= (uint8_t)(1 + rnd() % 255);
        x->corrupted++;
    } else {
        x->corrupt_run = 0;
    }
    uint64_t start = t;
    if (x->rate_bps) {
        if (x->link_free > start) start = x->link_free;
        start += (uint64_t)len * 8ull * 1000000000ull / x->rate_bps;
        x->link_free = start;
    }
    if (x->bleach) ecn = 0;
    if ((ecn == 1 || ecn == 2) && x->ce_pct > 0 && rnd_pct() < x->ce_pct) {
        ecn = 3;
        x->ce_marked++;
    }
    pkt *p = &x->q[(x->head + x->count++) % MAX_QUEUE];
    p->release = start + x->delay_ns;
    p->client = ci;
    p->len = len;
    p->data = copy;
    p->ecn = ecn;
    p->up_gen = clients[ci].gen;
}

/* Sends a datagram with its ECN codepoint in the IP header (to: NULL on a connected socket). */
static ssize_t send_marked(int fd, const addr *to, const pkt *p, bool v6) {
    struct iovec iov = {p->data, p->len};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof(u));
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (to) {
        m.msg_name = (void *)&to->ss;
        m.msg_namelen = to->len;
    }
    m.msg_control = u.buf;
    m.msg_controllen = sizeof(u.buf);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
    cm->cmsg_type = v6 ? IPV6_TCLASS : IP_TOS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    int tos = p->ecn & 3;
    memcpy(CMSG_DATA(cm), &tos, sizeof(tos));
    return sendmsg(fd, &m, 0);
}

/* Receives one datagram and the ECN codepoint it came with (IP_RECVTOS). */
static ssize_t recv_marked(int fd, uint8_t *buf, size_t cap, addr *from, uint8_t *ecn) {
    struct iovec iov = {buf, cap};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    if (from) {
        memset(from, 0, sizeof(*from));
        m.msg_name = &from->ss;
        m.msg_namelen = sizeof(from->ss);
    }
    ssize_t n = recvmsg(fd, &m, 0);
    if (from) from->len = m.msg_namelen;
    *ecn = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); n >= 0 && cm; cm = CMSG_NXTHDR(&m, cm)) {
        if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS)
            *ecn = *(const uint8_t *)CMSG_DATA(cm) & 3;
        if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS) {
            int tc;
            memcpy(&tc, CMSG_DATA(cm), sizeof(tc));
            *ecn = (uint8_t)(tc & 3);
        }
    }
    return n;
}

static void release_due(uint64_t t) {
    for (int d = 0; d < 2; d++) {
        dir *x = &dirs[d];
        while (x->count && x->q[x->head].release <= t) {
            pkt *p = &x->q[x->head];
            client *c = &clients[p->client];
            ssize_t rv = send_marked(d == C2S ? c->up : lfd, d == C2S ? NULL : &c->from, p,
                                     is_v6(&server_addr));
            if (rv == (ssize_t)p->len) {
                x->forwarded++;
                x->bytes += p->len;
                x->ecn_fwd[p->ecn & 3]++;
                pcap_write(d, c, p);
            }
            free(p->data);
            x->head = (x->head + 1) % MAX_QUEUE;
            x->count--;
        }
    }
}

/* A UDP socket of the server's family that reports ECN marks. */
static int marked_socket(void) {
    bool v6 = is_v6(&server_addr);
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd >= 0)
        (void)setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVTCLASS : IP_RECVTOS,
                         &one, sizeof(one));
    return fd;
}

/* A socket toward the server from a new port of loopback address 127.0.0.host (::1 for
 * IPv6); its address in *local. */
static int up_socket(unsigned host, addr *local) {
    int up = marked_socket();
    addr any = {.len = server_addr.len};
    any.ss.ss_family = server_addr.ss.ss_family;
    if (is_v6(&any))
        ((struct sockaddr_in6 *)&any.ss)->sin6_addr = in6addr_loopback;
    else
        ((struct sockaddr_in *)&any.ss)->sin_addr.s_addr = htonl(0x7f000000u | host);
    local->len = sizeof(local->ss);
    if (up < 0 || bind(up, (struct sockaddr *)&any.ss, any.len) != 0 ||
        connect(up, (struct sockaddr *)&server_addr.ss, server_addr.len) != 0 ||
        getsockname(up, (struct sockaddr *)&local->ss, &local->len) != 0) {
        if (up >= 0) close(up);
        return -1;
    }
    return up;
}

static int client_for(const addr *a) {
    for (int i = 0; i < nclients; i++)
        if (addr_eq(&clients[i].from, a)) return i;
    if (nclients == MAX_CLIENTS) return -1;
    int up = up_socket(1, &clients[nclients].up_addr);
    if (up < 0) return -1;
    clients[nclients].from = *a;
    clients[nclients].up = up;
    const addr *u = &clients[nclients].up_addr;
    clients[nclients].first_port = ntohs(is_v6(u) ? ((const struct sockaddr_in6 *)&u->ss)->sin6_port
                                                  : ((const struct sockaddr_in *)&u->ss)->sin_port);
    return nclients++;
}

/* The NAT rebinds: every client's traffic leaves from a new port (and address); what the
 * server sends to the old one is lost, as behind a real NAT. */
static void rebind_all(void) {
    rebinds++;
    for (int i = 0; i < nclients; i++) {
        addr local;
        int up = up_socket(rebind_addr ? 2 + (rebinds - 1) % 250 : 1, &local);
        if (up < 0) continue;
        close(clients[i].up);
        clients[i].up = up;
        clients[i].old_addr = clients[i].up_addr;
        clients[i].up_addr = local;
        clients[i].gen++;
    }
}

static void summary(FILE *f) {
    for (int d = 0; d < 2; d++) {
        dir *x = &dirs[d];
        fprintf(f,
                "%s seen=%llu forwarded=%llu bytes=%llu dropped_list=%llu dropped_random=%llu "
                "dropped_queue=%llu dropped_blackhole=%llu corrupted=%llu ect0=%llu ect1=%llu "
                "ce=%llu ce_marked=%llu max_loss_run=%u\n",
                dir_name[d], (unsigned long long)x->seen, (unsigned long long)x->forwarded,
                (unsigned long long)x->bytes, (unsigned long long)x->dropped_list,
                (unsigned long long)x->dropped_random, (unsigned long long)x->dropped_queue,
                (unsigned long long)x->dropped_hole, (unsigned long long)x->corrupted,
                (unsigned long long)x->ecn_fwd[2], (unsigned long long)x->ecn_fwd[1],
                (unsigned long long)x->ecn_fwd[3], (unsigned long long)x->ce_marked,
                x->max_drop_run);
    }
    /* The relay's first port toward the server for each client: what the server logs (it
     * names a connection by the address it came from first). */
    fprintf(f, "rebinds=%u clients=%d upstream=", rebinds, nclients);
    for (int i = 0; i < nclients; i++)
        fprintf(f, "%s%u", i ? "," : "", (unsigned)clients[i].first_port);
    fprintf(f, "\n");
}

static void usage(FILE *f) {
    fprintf(f, "usage: quicc-netsim --listen ADDR:PORT --server ADDR:PORT [options]\n"
               "ADDR is a loopback address: 127.x.y.z, or [::1] (both of one family).\n"
               "Relays UDP between a client and a server on loopback, emulating a network.\n\n"
               "  --delay MS          one-way delay, each direction (default 0)\n"
               "  --rate MBPS         bottleneck rate, each direction (default unlimited)\n"
               "  --queue PKTS        bottleneck queue in packets (default 100)\n"
               "  --drop PCT          random loss, each direction\n"
               "  --corrupt PCT       random corruption (one byte changed), each direction\n"
               "  --burst N           never more than N packets lost (or corrupted) in a row\n"
               "  --drop-list DIR:LIST  drop these packets by index (1-based), e.g. c2s:2-7\n"
               "  --blackhole A-B     drop everything from A to B ms after the first packet\n"
               "  --bleach            clear the ECN bits of every datagram\n"
               "  --ce PCT            mark this share of ECN-capable datagrams CE\n"
               "  --rebind-port MS    NAT rebinding: every MS ms the client's port changes\n"
               "  --rebind-addr MS    the same, and its address too (127.0.0.2, .3, ...)\n"
               "  --first-rebind MS   the first rebinding after MS ms (default: the period)\n"
               "  --seed N            random seed (default 1)\n"
               "  --duration S        stop after S seconds (default: on SIGTERM)\n"
               "  --summary FILE      write the per-direction summary there (default stderr)\n"
               "  --pcap FILE         record forwarded datagrams (IP/UDP, LINKTYPE_RAW)\n"
               "  --help              show this help\n\n"
               "Options given once apply to both directions; prefix c2s- or s2c- (for example\n"
               "--c2s-drop 30) to set one direction.\n");
}

int main(int argc, char **argv) {
    static const struct option opts[] = {
        {"listen", 1, 0, 'l'},    {"server", 1, 0, 's'},     {"delay", 1, 0, 'd'},
        {"rate", 1, 0, 'r'},      {"queue", 1, 0, 'Q'},      {"drop", 1, 0, 'x'},
        {"corrupt", 1, 0, 'c'},   {"burst", 1, 0, 'b'},      {"drop-list", 1, 0, 'L'},
        {"blackhole", 1, 0, 'B'}, {"seed", 1, 0, 'S'},       {"duration", 1, 0, 'T'},
        {"summary", 1, 0, 'o'},   {"pcap", 1, 0, 'p'},       {"c2s-drop", 1, 0, 1},
        {"s2c-drop", 1, 0, 2},    {"c2s-corrupt", 1, 0, 3},  {"s2c-corrupt", 1, 0, 4},
        {"c2s-delay", 1, 0, 5},   {"s2c-delay", 1, 0, 6},    {"bleach", 0, 0, 'E'},
        {"ce", 1, 0, 'C'},        {"help", 0, 0, 'h'},       {"rebind-port", 1, 0, 7},
        {"rebind-addr", 1, 0, 8}, {"first-rebind", 1, 0, 9}, {0, 0, 0, 0}};
    bool have_listen = false, have_server = false;
    double duration = 0;
    const char *summary_path = NULL, *pcap_path = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'l':
        case 's':
            if (parse_addr(optarg, o == 'l' ? &listen_addr : &server_addr) != 0) {
                fprintf(stderr,
                        "quicc-netsim: %s: want 127.x.y.z:PORT or [::1]:PORT (loopback only)\n",
                        optarg);
                return 2;
            }
            *(o == 'l' ? &have_listen : &have_server) = true;
            break;
        case 'd':
            dirs[C2S].delay_ns = dirs[S2C].delay_ns = (uint64_t)(atof(optarg) * 1e6);
            break;
        case 'r':
            dirs[C2S].rate_bps = dirs[S2C].rate_bps = (uint64_t)(atof(optarg) * 1e6);
            break;
        case 'Q':
            dirs[C2S].queue_pkts = dirs[S2C].queue_pkts = (unsigned)atoi(optarg);
            break;
        case 'x':
            dirs[C2S].drop_pct = dirs[S2C].drop_pct = atof(optarg);
            break;
        case 'c':
            dirs[C2S].corrupt_pct = dirs[S2C].corrupt_pct = atof(optarg);
            break;
        case 'b':
            dirs[C2S].burst = dirs[S2C].burst = (unsigned)atoi(optarg);
            break;
        case 'L':
            if (parse_drop_list(optarg) != 0) {
                fprintf(stderr, "quicc-netsim: --drop-list wants c2s:LIST or s2c:LIST\n");
                return 2;
            }
            break;
        case 'B': {
            unsigned long long a, b;
            if (nholes == MAX_HOLES || sscanf(optarg, "%llu-%llu", &a, &b) != 2 || b <= a) {
                fprintf(stderr, "quicc-netsim: --blackhole wants START-END in ms\n");
                return 2;
            }
            holes[nholes][0] = a, holes[nholes][1] = b, nholes++;
            break;
        }
        case 'S':
            rng = strtoull(optarg, NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
            break;
        case 'T':
            duration = atof(optarg);
            break;
        case 'o':
            summary_path = optarg;
            break;
        case 'p':
            pcap_path = optarg;
            break;
        case 1:
        case 2:
            dirs[o == 1 ? C2S : S2C].drop_pct = atof(optarg);
            break;
        case 3:
        case 4:
            dirs[o == 3 ? C2S : S2C].corrupt_pct = atof(optarg);
            break;
        case 5:
        case 6:
            dirs[o == 5 ? C2S : S2C].delay_ns = (uint64_t)(atof(optarg) * 1e6);
            break;
        case 'E':
            dirs[C2S].bleach = dirs[S2C].bleach = true;
            break;
        case 7:
        case 8:
            rebind_ms = strtoull(optarg, NULL, 10);
            rebind_addr = o == 8;
            break;
        case 9:
            first_rebind_ms = strtoull(optarg, NULL, 10);
            break;
        case 'C':
            dirs[C2S].ce_pct = dirs[S2C].ce_pct = atof(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!have_listen || !have_server || optind != argc) {
        usage(stderr);
        return 2;
    }
    for (int d = 0; d < 2; d++)
        if (!dirs[d].queue_pkts) dirs[d].queue_pkts = 100;
    if (listen_addr.ss.ss_family != server_addr.ss.ss_family) {
        fprintf(stderr, "quicc-netsim: --listen and --server must be of one address family\n");
        return 2;
    }
    if (rebind_addr && is_v6(&server_addr)) {
        fprintf(stderr, "quicc-netsim: --rebind-addr needs IPv4 (IPv6 loopback is one address)\n");
        return 2;
    }
    next_rebind_ms = first_rebind_ms ? first_rebind_ms : rebind_ms;
    lfd = marked_socket();
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&listen_addr.ss, listen_addr.len) != 0) {
        fprintf(stderr, "quicc-netsim: cannot listen: %s\n", strerror(errno));
        return 1;
    }
    if (pcap_path) {
        pcap = fopen(pcap_path, "wb");
        if (!pcap) {
            fprintf(stderr, "quicc-netsim: %s: %s\n", pcap_path, strerror(errno));
            return 1;
        }
        pcap_header();
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    uint64_t end = duration > 0 ? now_ns() + (uint64_t)(duration * 1e9) : 0;
    static uint8_t buf[MAX_DGRAM];
    uint64_t linger_end = 0, last_rx = 0;
    for (;;) {
        uint64_t tn = now_ns();
        if (end && tn >= end) break;
        if (stop && !linger_end) {
            uint64_t longest =
                dirs[C2S].delay_ns > dirs[S2C].delay_ns ? dirs[C2S].delay_ns : dirs[S2C].delay_ns;
            linger_end = tn + longest + 1000000000ull;
            last_rx = tn;
        }
        if (linger_end && (tn >= linger_end ||
                           (!dirs[C2S].count && !dirs[S2C].count && tn - last_rx >= 100000000ull)))
            break;
        struct pollfd pfd[1 + MAX_CLIENTS];
        pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (int i = 0; i < nclients; i++)
            pfd[1 + i] = (struct pollfd){.fd = clients[i].up, .events = POLLIN};
        uint64_t t = now_ns(), next = t + 50000000ull;
        for (int d = 0; d < 2; d++)
            if (dirs[d].count && dirs[d].q[dirs[d].head].release < next)
                next = dirs[d].q[dirs[d].head].release;
        int ms = next > t ? (int)((next - t + 999999) / 1000000) : 0;
        poll(pfd, (nfds_t)(1 + nclients), ms);
        for (;;) {
            addr from;
            uint8_t ecn;
            ssize_t n = recv_marked(lfd, buf, sizeof(buf), &from, &ecn);
            if (n < 0) break;
            int ci = client_for(&from);
            if (ci >= 0) admit(C2S, ci, buf, (size_t)n, ecn);
            last_rx = now_ns();
        }
        for (int i = 0; i < nclients; i++)
            for (;;) {
                uint8_t ecn;
                ssize_t n = recv_marked(clients[i].up, buf, sizeof(buf), NULL, &ecn);
                if (n < 0) break;
                admit(S2C, i, buf, (size_t)n, ecn);
                last_rx = now_ns();
            }
        release_due(now_ns());
        if (rebind_ms && t_first && now_ns() >= t_first + next_rebind_ms * 1000000ull) {
            rebind_all();
            next_rebind_ms += rebind_ms;
        }
    }
    FILE *sf = summary_path ? fopen(summary_path, "w") : stderr;
    if (sf) summary(sf);
    if (sf && sf != stderr) fclose(sf);
    if (pcap) fclose(pcap);
    return 0;
}
