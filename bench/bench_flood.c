/*
 * bench_flood: what a flood of garbage datagrams costs a listener that holds N idle
 * connections. One process, loopback only: a listener driven by its own thread
 * (quicc_handle_events, then poll() on its socket for the event timeout), N client
 * connections made with the public API and then left idle, and a sender that throws
 * D datagrams of random bytes (short-header packets for unknown connection IDs) at the
 * listener. The server thread's CPU time is read with CLOCK_THREAD_CPUTIME_ID over the
 * flood, and over an equally long quiet window before it (timers, keep-alives).
 *
 * usage: bench_flood CERT KEY N [D]   (default D = 20000)
 * Prints one line: conns, datagrams, flood CPU ms, quiet CPU ms, and microseconds per
 * datagram after subtracting the quiet window. Used by bench/bench_flood.sh.
 */
#include "quicc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static quicc *listener;
static int lfd;
static atomic_int stop;
static atomic_llong server_cpu_ns;

static long long now_ns(clockid_t clk) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The listener's thread: every connection it accepts stays open and idle. */
static void *serve(void *arg) {
    (void)arg;
    size_t cap = 8192, n = 0;
    quicc **conns = calloc(cap, sizeof(*conns));
    while (!atomic_load(&stop)) {
        quicc_handle_events(listener);
        quicc *c;
        while (n < cap && (c = quicc_accept_connection(listener, QUICC_ACCEPT_CONNECTION_NO_BLOCK)))
            conns[n++] = c;
        struct timeval tv;
        int inf = 0;
        int ms = 50;
        if (quicc_get_event_timeout(listener, &tv, &inf) && !inf) {
            long t = tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
            if (t < ms) ms = (int)t;
        }
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        poll(&p, 1, ms);
        atomic_store(&server_cpu_ns, now_ns(CLOCK_THREAD_CPUTIME_ID));
    }
    for (size_t i = 0; i < n; i++)
        quicc_free(conns[i]);
    free(conns);
    return NULL;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s CERT KEY N [DATAGRAMS]\n", argv[0]);
        return 2;
    }
    int nconns = atoi(argv[3]);
    int ndgrams = argc == 5 ? atoi(argv[4]) : 20000;
    if (nconns < 0 || nconns > 4096 || ndgrams <= 0) return 2;
    struct rlimit rl = {nconns + 256, nconns + 256};
    if (rl.rlim_cur > 1024 && setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        perror("setrlimit");
        return 1;
    }
    static const unsigned char alpn[] = "\x02h3";
    quicc_ctx *sctx = quicc_ctx_new(QUICC_SERVER);
    if (!quicc_ctx_use_certificate_chain_file(sctx, argv[1]) ||
        !quicc_ctx_use_PrivateKey_file(sctx, argv[2]))
        return 1;
    quicc_ctx_set_alpn_protos(sctx, alpn, 3);
    lfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int big = 8 << 20;
    setsockopt(lfd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    socklen_t sl = sizeof(sin);
    if (bind(lfd, (struct sockaddr *)&sin, sl) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sin, &sl) != 0)
        return 1;
    listener = quicc_new_listener(sctx, QUICC_LISTENER_FLAG_NO_RETRY);
    if (!listener || !quicc_set_fd(listener, lfd) || !quicc_listen(listener)) {
        quicc_err_print(stderr);
        return 1;
    }
    pthread_t th;
    pthread_create(&th, NULL, serve, NULL);

    quicc_ctx *cctx = quicc_ctx_new(QUICC_CLIENT);
    quicc_ctx_set_verify(cctx, QUICC_VERIFY_NONE);
    quicc **clients = calloc((size_t)nconns + 1, sizeof(*clients));
    for (int i = 0; i < nconns; i++) {
        quicc *c = quicc_new(cctx);
        quicc_set1_initial_peer_addr(c, (struct sockaddr *)&sin, sizeof(sin));
        quicc_set_alpn_protos(c, alpn, 3);
        if (quicc_connect(c) != 1) {
            fprintf(stderr, "bench_flood: connection %d failed\n", i);
            quicc_err_print(stderr);
            return 1;
        }
        quicc_set_blocking_mode(c, 0);
        clients[i] = c;
    }
    /* Let the handshakes' last packets be acknowledged, so that the connections are idle. */
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < nconns; i++)
            quicc_handle_events(clients[i]);
        sleep_ms(50);
    }

    int tx = socket(AF_INET, SOCK_DGRAM, 0);
    unsigned char d[1200];
    srand(12345);
    /* Quiet window and flood window of the same length. */
    long long q0 = atomic_load(&server_cpu_ns), qt0 = now_ns(CLOCK_MONOTONIC);
    int bursts = (ndgrams + 99) / 100;
    sleep_ms(bursts + 300);
    long long q1 = atomic_load(&server_cpu_ns), qt1 = now_ns(CLOCK_MONOTONIC);
    long long f0 = atomic_load(&server_cpu_ns);
    for (int sent = 0; sent < ndgrams;) {
        for (int k = 0; k < 100 && sent < ndgrams; k++, sent++) {
            for (size_t j = 0; j < sizeof(d); j++)
                d[j] = (unsigned char)rand();
            d[0] = (unsigned char)(0x40 | (d[0] & 0x3f)); /* short header, fixed bit */
            sendto(tx, d, sizeof(d), 0, (struct sockaddr *)&sin, sizeof(sin));
        }
        sleep_ms(1);
    }
    long long ft = now_ns(CLOCK_MONOTONIC);
    long long wait_ms = (qt1 - qt0) / 1000000 - (ft - qt1) / 1000000;
    sleep_ms(wait_ms > 300 ? (int)wait_ms : 300);
    long long f1 = atomic_load(&server_cpu_ns);
    double flood_ms = (double)(f1 - f0) / 1e6, quiet_ms = (double)(q1 - q0) / 1e6;
    printf("conns=%d datagrams=%d flood_cpu_ms=%.1f quiet_cpu_ms=%.1f us_per_datagram=%.2f\n",
           nconns, ndgrams, flood_ms, quiet_ms, (flood_ms - quiet_ms) * 1000.0 / ndgrams);
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    for (int i = 0; i < nconns; i++)
        quicc_free(clients[i]);
    free(clients);
    quicc_free(listener);
    quicc_ctx_free(cctx);
    quicc_ctx_free(sctx);
    close(tx);
    close(lfd);
    return 0;
}
