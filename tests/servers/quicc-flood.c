/*
 * quicc-flood: sends hostile traffic to a server on loopback for the flood
 * test: random garbage, forged Initial packets (1200 bytes, random connection
 * IDs, undecryptable) and short-header packets for unknown connections, from
 * 64 source ports. Bounded: at most MAX datagrams and SECONDS seconds.
 *
 * usage: quicc-flood PORT SECONDS MAX   (to 127.0.0.1)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s PORT SECONDS MAX\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    double secs = atof(argv[2]);
    long max = atol(argv[3]);
    if (port <= 0 || port > 65535 || secs <= 0 || secs > 60 || max <= 0 || max > 10000000) return 2;
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    enum { NSOCK = 64 };
    int fds[NSOCK];
    for (int i = 0; i < NSOCK; i++) {
        fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (fds[i] < 0) return 1;
    }
    double end = now() + secs;
    long sent[3] = {0, 0, 0}, n = 0;
    uint8_t buf[1500];
    while (n < max && now() < end) {
        int kind = (int)(next() % 3);
        size_t len;
        for (size_t i = 0; i < sizeof(buf); i += 8) {
            uint64_t r = next();
            memcpy(buf + i, &r, 8);
        }
        if (kind == 0) {
            len = 1 + next() % 1400; /* garbage */
        } else if (kind == 1) {
            len = 1200; /* a forged Initial: valid header, undecryptable payload */
            buf[0] = (uint8_t)(0xc0 | (next() & 3));
            buf[1] = buf[2] = buf[3] = 0;
            buf[4] = 1;
            buf[5] = 8;     /* dcid len, 8 random bytes follow */
            buf[14] = 8;    /* scid len */
            buf[23] = 0;    /* token length */
            buf[24] = 0x44; /* 2-byte Length */
            buf[25] = (uint8_t)(1200 - 26);
            buf[24] = (uint8_t)(0x40 | ((1200 - 26) >> 8));
        } else {
            len = 60; /* a short header for an unknown connection */
            buf[0] = (uint8_t)(0x40 | (buf[0] & 0x3f));
        }
        if (sendto(fds[n % NSOCK], buf, len, 0, (struct sockaddr *)&dst, sizeof(dst)) > 0)
            sent[kind]++;
        n++;
        if (n % 64 == 0) usleep(200); /* bounded rate: about 300k datagrams/s at most */
    }
    printf("flood: %ld garbage, %ld forged Initials, %ld unknown short headers\n", sent[0], sent[1],
           sent[2]);
    for (int i = 0; i < NSOCK; i++)
        close(fds[i]);
    return 0;
}
