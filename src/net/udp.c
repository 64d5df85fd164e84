/* udp.c: UDP sockets with GSO/GRO batching (see udp.h). */
#include "net/udp.h"

#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

int qc_udp_open(const qc_addr *peer, const qc_addr *local, bool connect_peer) {
    int family = peer ? peer->ss.ss_family : local->ss.ss_family;
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int sz = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    if (family == AF_INET6) {
        int off = 0;
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    }
    if (local && bind(fd, (const struct sockaddr *)&local->ss, local->len) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (connect_peer && peer && connect(fd, (const struct sockaddr *)&peer->ss, peer->len) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

unsigned qc_udp_features(int fd) {
    unsigned f = 0;
    int one = 1;
    if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0) f |= QC_UDP_HAS_GRO;
    int seg = 0;
    socklen_t sl = sizeof(seg);
    if (getsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, &sl) == 0) f |= QC_UDP_HAS_GSO;
    /* Arrival times, so that an application slow to read does not inflate RTT samples. */
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) == 0) f |= QC_UDP_HAS_RX_TIME;
    /* ECN marks of arriving datagrams (IPv4, and IPv6 for a v6 socket). */
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 && ss.ss_family == AF_INET6) {
        f |= QC_UDP_IS_V6;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one)) == 0)
            f |= QC_UDP_HAS_ECN;
        (void)setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one)); /* v4-mapped peers */
    } else if (setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one)) == 0) {
        f |= QC_UDP_HAS_ECN;
    }
    return f;
}

/* Adds the cmsg that sets the datagram's ECN codepoint (IP_TOS for IPv4 and v4-mapped
 * destinations, IPV6_TCLASS for IPv6) at cm. */
static void put_tos(struct cmsghdr *cm, const qc_addr *dst, unsigned features, uint8_t ecn) {
    bool v4 = !(features & QC_UDP_IS_V6);
    if (!v4 && dst) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&dst->ss;
        v4 = dst->ss.ss_family == AF_INET || IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr);
    }
    int tos = ecn & 3;
    cm->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
    cm->cmsg_type = v4 ? IP_TOS : IPV6_TCLASS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &tos, sizeof(tos));
}

#define CTL_SPACE (CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(int)))

static int send_gso(int fd, const qc_addr *peer, uint8_t *data, size_t total, size_t seg,
                    unsigned features, uint8_t ecn) {
    struct iovec iov = {data, total};
    union {
        char buf[CTL_SPACE];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof(u));
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (peer) {
        msg.msg_name = (void *)&peer->ss;
        msg.msg_namelen = peer->len;
    }
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof(u.buf);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    size_t used = 0;
    if (total > seg) {
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t s = (uint16_t)seg;
        memcpy(CMSG_DATA(cm), &s, sizeof(s));
        used += CMSG_SPACE(sizeof(uint16_t));
        cm = (struct cmsghdr *)(u.buf + used);
    }
    if ((features & QC_UDP_HAS_ECN) && ecn) {
        put_tos(cm, peer, features, ecn);
        used += CMSG_SPACE(sizeof(int));
    }
    msg.msg_controllen = used;
    if (!used) msg.msg_control = NULL;
    ssize_t n = sendmsg(fd, &msg, 0);
    if (n < 0) return -errno;
    return 0;
}

int qc_udp_send_batch(int fd, const qc_addr *peer, qc_udp_batch *b, unsigned features) {
    while (b->sent < b->count) {
        size_t i = b->sent;
        if (features & QC_UDP_HAS_GSO) {
            /* Group: equal-size datagrams, the last of the group may be shorter. */
            size_t seg = b->len[i], total = seg, j = i + 1;
            while (j < b->count && b->len[j - 1] == seg && b->len[j] <= seg &&
                   total + b->len[j] <= 65000 && j - i < 64) {
                total += b->len[j];
                j++;
            }
            /* Datagrams are stored at seg_cap strides: compact the group first. */
            uint8_t *base = b->buf + i * b->seg_cap;
            size_t off = b->len[i];
            for (size_t k = i + 1; k < j; k++) {
                memmove(base + off, b->buf + k * b->seg_cap, b->len[k]);
                off += b->len[k];
            }
            int rv = send_gso(fd, peer, base, total, seg, features, b->ecn);
            if (rv == -EAGAIN || rv == -EWOULDBLOCK) {
                /* Undo the compaction so the batch stays addressable by stride. */
                for (size_t k = j; k-- > i + 1;) {
                    off -= b->len[k];
                    memmove(b->buf + k * b->seg_cap, base + off, b->len[k]);
                }
                return -EAGAIN;
            }
            if (rv == -EIO || rv == -EINVAL) {
                /* GSO refused (e.g. by the device): fall back to plain sends for good. */
                for (size_t k = j; k-- > i + 1;) {
                    off -= b->len[k];
                    memmove(b->buf + k * b->seg_cap, base + off, b->len[k]);
                }
                features &= ~(unsigned)QC_UDP_HAS_GSO;
                continue;
            }
            b->sent = j; /* other errors: the datagrams are lost, as on the wire */
            continue;
        }
        struct mmsghdr msgs[QC_UDP_BATCH];
        struct iovec iovs[QC_UDP_BATCH];
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } ctl[QC_UDP_BATCH];
        size_t n = 0;
        for (size_t k = i; k < b->count; k++, n++) {
            iovs[n].iov_base = b->buf + k * b->seg_cap;
            iovs[n].iov_len = b->len[k];
            memset(&msgs[n], 0, sizeof(msgs[n]));
            msgs[n].msg_hdr.msg_iov = &iovs[n];
            msgs[n].msg_hdr.msg_iovlen = 1;
            if (peer) {
                msgs[n].msg_hdr.msg_name = (void *)&peer->ss;
                msgs[n].msg_hdr.msg_namelen = peer->len;
            }
            if ((features & QC_UDP_HAS_ECN) && b->ecn) {
                memset(&ctl[n], 0, sizeof(ctl[n]));
                msgs[n].msg_hdr.msg_control = ctl[n].buf;
                msgs[n].msg_hdr.msg_controllen = sizeof(ctl[n].buf);
                put_tos(CMSG_FIRSTHDR(&msgs[n].msg_hdr), peer, features, b->ecn);
            }
        }
        int r = sendmmsg(fd, msgs, (unsigned)n, 0);
        if (r < 0 && errno == EINVAL && (features & QC_UDP_HAS_ECN) && b->ecn) {
            features &= ~(unsigned)QC_UDP_HAS_ECN; /* marks refused: send unmarked */
            continue;
        }
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return -EAGAIN;
            b->sent++; /* drop the one that failed */
            continue;
        }
        b->sent += (size_t)r;
    }
    return 0;
}

int qc_udp_peer_addr(int fd, qc_addr *peer) {
    peer->len = sizeof(peer->ss);
    return getpeername(fd, (struct sockaddr *)&peer->ss, &peer->len) == 0 ? 0 : -errno;
}

void qc_udp_close(int fd) {
    close(fd);
}

int qc_udp_send_one(int fd, const qc_addr *peer, const uint8_t *data, size_t len) {
    ssize_t n = peer ? sendto(fd, data, len, 0, (const struct sockaddr *)&peer->ss, peer->len)
                     : send(fd, data, len, 0);
    return n < 0 ? -errno : 0;
}

int qc_udp_rx_init(qc_udp_rx *rx) {
    memset(rx, 0, sizeof(*rx));
    rx->buf = qc_malloc((size_t)QC_UDP_RX_MSGS * QC_UDP_RX_MSG_SIZE);
    return rx->buf ? 0 : -ENOMEM;
}

void qc_udp_rx_free(qc_udp_rx *rx) {
    qc_free(rx->buf);
    rx->buf = NULL;
}

int qc_udp_recv_batch(int fd, qc_udp_rx *rx) {
    struct mmsghdr msgs[QC_UDP_RX_MSGS];
    struct iovec iovs[QC_UDP_RX_MSGS];
    struct sockaddr_storage addrs[QC_UDP_RX_MSGS];
    union {
        char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct timespec)) +
                 CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl[QC_UDP_RX_MSGS];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < QC_UDP_RX_MSGS; i++) {
        iovs[i].iov_base = rx->buf + (size_t)i * QC_UDP_RX_MSG_SIZE;
        iovs[i].iov_len = QC_UDP_RX_MSG_SIZE;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &addrs[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
        msgs[i].msg_hdr.msg_control = ctl[i].buf;
        msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
    }
    int r = recvmmsg(fd, msgs, QC_UDP_RX_MSGS, MSG_DONTWAIT, NULL);
    rx->count = 0;
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -errno;
    }
    struct timespec now_rt;
    clock_gettime(CLOCK_REALTIME, &now_rt);
    int64_t now_ns = (int64_t)now_rt.tv_sec * 1000000000 + now_rt.tv_nsec;
    for (int i = 0; i < r; i++) {
        size_t len = msgs[i].msg_len, seg = len;
        uint64_t waited = 0;
        uint8_t ecn = 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm;
             cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
            if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
                int s;
                memcpy(&s, CMSG_DATA(cm), sizeof(s));
                if (s > 0) seg = (size_t)s;
            } else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
                int64_t w = now_ns - ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
                /* Both stamps come from CLOCK_REALTIME; a clock step makes nonsense: ignore. */
                if (w > 0 && w < 10 * (int64_t)1000000000) waited = (uint64_t)w;
            } else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS) {
                ecn = *(const uint8_t *)CMSG_DATA(cm) & 3; /* one byte (IP_RECVTOS) */
            } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS) {
                int tc;
                memcpy(&tc, CMSG_DATA(cm), sizeof(tc));
                ecn = (uint8_t)(tc & 3);
            }
        }
        uint8_t *p = iovs[i].iov_base;
        for (size_t off = 0; off < len && rx->count < (sizeof(rx->d) / sizeof(rx->d[0]));
             off += seg) {
            qc_udp_dgram *d = &rx->d[rx->count++];
            d->data = p + off;
            d->len = len - off < seg ? len - off : seg;
            memcpy(&d->peer.ss, &addrs[i], msgs[i].msg_hdr.msg_namelen);
            d->peer.len = msgs[i].msg_hdr.msg_namelen;
            d->waited_ns = waited;
            d->ecn = ecn;
        }
    }
    return (int)rx->count;
}

void qc_addr_to_path(const qc_addr *a, qc_path_addr *p) {
    memset(p, 0, sizeof(*p));
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;
        memcpy(p->ip, &s4->sin_addr, 4);
        p->ip_len = 4;
        p->port = ntohs(s4->sin_port);
    } else if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;
        memcpy(p->ip, &s6->sin6_addr, 16);
        p->ip_len = 16;
        p->port = ntohs(s6->sin6_port);
    }
}

void qc_addr_from_path(const qc_path_addr *p, qc_addr *a) {
    memset(a, 0, sizeof(*a));
    if (p->ip_len == 4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, p->ip, 4);
        s4->sin_port = htons(p->port);
        a->len = sizeof(*s4);
    } else if (p->ip_len == 16) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, p->ip, 16);
        s6->sin6_port = htons(p->port);
        a->len = sizeof(*s6);
    }
}
