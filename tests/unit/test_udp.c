/* Unit tests for net/udp.c: batched sends (GSO or sendmmsg) and batched receives (GRO or
 * recvmmsg) over IPv4 and IPv6 loopback, checked byte for byte, with the ECN codepoint
 * each datagram was sent with arriving with it. */
#include "net/udp.h"
#include "unit/test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

static void loopback(qc_addr *a, uint16_t port) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
    memset(a, 0, sizeof(*a));
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->len = sizeof(*sin);
}

static void loopback6(qc_addr *a) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
    memset(a, 0, sizeof(*a));
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_loopback;
    a->len = sizeof(*sin6);
}

static void fill(uint8_t *p, size_t len, unsigned seed) {
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed * 131 + i * 7);
}

static void run_batch(unsigned features_mask, uint8_t ecn, uint8_t ecn_expect, bool v6) {
    qc_addr any, dst;
    if (v6)
        loopback6(&any);
    else
        loopback(&any, 0);
    int rfd = qc_udp_open(NULL, &any, false);
    CHECK(rfd >= 0);
    socklen_t sl = sizeof(dst.ss);
    getsockname(rfd, (struct sockaddr *)&dst.ss, &sl);
    dst.len = sl;
    unsigned rf = qc_udp_features(rfd);
    CHECK(rf & QC_UDP_HAS_ECN);
    CHECK_EQ((rf & QC_UDP_IS_V6) != 0, v6);
    int sfd = qc_udp_open(&dst, NULL, true);
    CHECK(sfd >= 0);
    unsigned sf = qc_udp_features(sfd) & features_mask;

    qc_udp_batch b = {0};
    b.seg_cap = 1452;
    b.buf = malloc(QC_UDP_BATCH * b.seg_cap);
    /* 40 datagrams: runs of equal sizes, a short one closing each run. */
    size_t sizes[40];
    for (size_t i = 0; i < 40; i++) {
        sizes[i] = (i % 10 == 9) ? 300 + i : 1200;
        b.len[i] = sizes[i];
        fill(b.buf + i * b.seg_cap, sizes[i], (unsigned)i);
    }
    b.count = 40;
    b.ecn = ecn;
    CHECK_EQ(qc_udp_send_batch(sfd, NULL, &b, sf), 0);
    CHECK_EQ(b.sent, 40);

    qc_udp_rx rx;
    CHECK_EQ(qc_udp_rx_init(&rx), 0);
    size_t got = 0;
    uint8_t expect[1452];
    for (int tries = 0; tries < 100 && got < 40; tries++) {
        struct pollfd p = {.fd = rfd, .events = POLLIN};
        poll(&p, 1, 100);
        int n = qc_udp_recv_batch(rfd, &rx);
        CHECK(n >= 0);
        for (int i = 0; i < n && got < 40; i++, got++) {
            CHECK_EQ(rx.d[i].len, sizes[got]);
            CHECK_EQ(rx.d[i].ecn, ecn_expect);
            fill(expect, sizes[got], (unsigned)got);
            if (rx.d[i].len == sizes[got]) CHECK_MEM(rx.d[i].data, expect, sizes[got]);
        }
    }
    CHECK_EQ(got, 40);
    qc_udp_rx_free(&rx);
    free(b.buf);
    close(sfd);
    close(rfd);
}

static void test_batch_gso(void) {
    run_batch(~0u, 0, 0, false);
    run_batch(~0u, 2, 2, false); /* ECT(0) */
    run_batch(~0u, 3, 3, true);  /* CE, IPv6 */
}
static void test_batch_sendmmsg(void) {
    unsigned no_gso = ~(unsigned)QC_UDP_HAS_GSO;
    run_batch(no_gso, 2, 2, false);
    run_batch(no_gso, 1, 1, true); /* ECT(1), IPv6 */
    /* A socket that may not set marks sends unmarked. */
    run_batch(no_gso & ~(unsigned)QC_UDP_HAS_ECN, 2, 0, false);
}

/* The kernel's receive timestamp tells how long a datagram waited in the socket. */
static void test_rx_waited(void) {
    qc_addr any, dst;
    loopback(&any, 0);
    int rfd = qc_udp_open(NULL, &any, false);
    socklen_t sl = sizeof(dst.ss);
    getsockname(rfd, (struct sockaddr *)&dst.ss, &sl);
    dst.len = sl;
    unsigned rf = qc_udp_features(rfd);
    CHECK(rf & QC_UDP_HAS_RX_TIME);
    int sfd = qc_udp_open(&dst, NULL, true);
    qc_udp_rx rx;
    CHECK_EQ(qc_udp_rx_init(&rx), 0);
    struct pollfd in = {.fd = rfd, .events = POLLIN};
    /* The kernel turns arrival stamps on for the whole system a little after the first socket
     * asks (deferred work); until then a datagram is stamped when it is read. Warm up. */
    for (int i = 0; i < 100; i++) {
        CHECK_EQ(send(sfd, "warm", 4, 0), 4);
        CHECK_EQ(poll(&in, 1, 5000), 1);
        usleep(2000);
        CHECK_EQ(qc_udp_recv_batch(rfd, &rx), 1);
        if (rx.d[0].waited_ns >= 1000000ull) break;
    }
    CHECK_EQ(send(sfd, "late", 4, 0), 4);
    /* Once it is in the socket (under load the loopback delivery itself can lag send()),
     * leave it there for 80 ms. */
    CHECK_EQ(poll(&in, 1, 5000), 1);
    usleep(80000);
    CHECK_EQ(qc_udp_recv_batch(rfd, &rx), 1);
    CHECK_EQ(rx.d[0].len, 4);
    CHECK_MEM(rx.d[0].data, "late", 4);
    CHECK(rx.d[0].waited_ns >= 79000000ull); /* without timestamps it would be 0 */
    CHECK(rx.d[0].waited_ns < 5000000000ull);
    /* Read at once: a short wait. */
    CHECK_EQ(send(sfd, "soon", 4, 0), 4);
    struct pollfd p = {.fd = rfd, .events = POLLIN};
    poll(&p, 1, 1000);
    CHECK_EQ(qc_udp_recv_batch(rfd, &rx), 1);
    CHECK(rx.d[0].waited_ns < 50000000ull);
    qc_udp_rx_free(&rx);
    close(sfd);
    close(rfd);
}

static void test_open_errors(void) {
    qc_addr a;
    loopback(&a, 1);
    a.len = 3; /* bad address length */
    CHECK_EQ(qc_udp_open(&a, NULL, true), -EINVAL);
}

int main(void) {
    TEST_RUN(test_batch_gso);
    TEST_RUN(test_batch_sendmmsg);
    TEST_RUN(test_open_errors);
    TEST_RUN(test_rx_waited);
    return test_summary();
}
