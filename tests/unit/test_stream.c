/* Unit tests for stream.c: send buffer, retransmission, FIN, reassembly, final size, resets,
 * the two state machines and memory release. */
#include "core/stream.h"
#include "unit/test.h"

static uint64_t rng_state;

static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fill(uint8_t *p, size_t n, uint64_t seed) {
    rng_state = seed;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

/* A stream id 0 (client bidi) as seen by the client. */
static void new_bidi(qc_stream *s, uint64_t max_buffered) {
    qc_stream_init(s, 0, false, max_buffered);
}

static bool send_side_empty(const qc_stream *s) {
    return s->snd.ring.buf == NULL && s->snd.ring.cap == 0 && s->snd.acked.r == NULL &&
           s->snd.lost.r == NULL;
}

static bool recv_side_empty(const qc_stream *s) {
    return s->rcv.ring.buf == NULL && s->rcv.ring.cap == 0 && s->rcv.received.r == NULL;
}

/* Takes the next chunk and checks it is exactly (off, len, fin) with the source bytes. */
static void expect_chunk(qc_stream *s, uint64_t limit, size_t max_len, uint64_t off, size_t len,
                         bool fin, const uint8_t *src) {
    uint64_t o = 99;
    size_t l = 99;
    bool f = !fin;
    CHECK(qc_stream_next_chunk(s, limit, max_len, &o, &l, &f));
    CHECK_U64(o, off);
    CHECK_EQ(l, len);
    CHECK_EQ(f, fin);
    if (o == off && l == len && len) {
        uint8_t *tmp = malloc(len);
        qc_stream_copy_out(s, off, len, tmp);
        CHECK_MEM(tmp, src + off, len);
        free(tmp);
    }
}

static void expect_no_chunk(qc_stream *s, uint64_t limit) {
    uint64_t o;
    size_t l;
    bool f;
    CHECK(!qc_stream_next_chunk(s, limit, 1000, &o, &l, &f));
}

static void test_init_roles(void) {
    qc_stream s;
    qc_stream_init(&s, 0, false, 100); /* client bidi, client view */
    CHECK_EQ(s.send_state, QC_SEND_READY);
    CHECK_EQ(s.recv_state, QC_RECV_RECV);
    CHECK_U64(s.rcv.final_size, UINT64_MAX);
    qc_stream_init(&s, 2, false, 100); /* client uni, client view: send only */
    CHECK_EQ(s.send_state, QC_SEND_READY);
    CHECK_EQ(s.recv_state, QC_RECV_NONE);
    CHECK(qc_stream_recv_done(&s));
    uint64_t nb = 7;
    CHECK_EQ(qc_stream_on_data(&s, 0, (const uint8_t *)"x", 1, false, &nb), QC_ERR_STREAM_STATE);
    CHECK_EQ(qc_stream_on_reset(&s, 1, 0, &nb), QC_ERR_STREAM_STATE);
    qc_stream_init(&s, 2, true, 100); /* client uni, server view: receive only */
    CHECK_EQ(s.send_state, QC_SEND_NONE);
    CHECK_EQ(s.recv_state, QC_RECV_RECV);
    CHECK(qc_stream_send_done(&s));
    CHECK_EQ(qc_stream_write(&s, (const uint8_t *)"x", 1), QC_ERR_STREAM_STATE);
    CHECK_EQ(qc_stream_conclude(&s), QC_ERR_STREAM_STATE);
    CHECK_EQ(qc_stream_reset(&s, 1), QC_ERR_STREAM_STATE);
    CHECK_EQ(qc_stream_on_stop_sending(&s, 1), QC_ERR_STREAM_STATE);
    CHECK_EQ(qc_stream_write_avail(&s), 0);
    qc_stream_init(&s, 3, true, 100); /* server uni, server view: send only */
    CHECK_EQ(s.send_state, QC_SEND_READY);
    CHECK_EQ(s.recv_state, QC_RECV_NONE);
    qc_stream_init(&s, 1, false, 100); /* server bidi, client view */
    CHECK_EQ(s.send_state, QC_SEND_READY);
    CHECK_EQ(s.recv_state, QC_RECV_RECV);
    qc_stream_free(&s);
}

/* Writes, sends in chunks, acknowledges out of order; memory goes once all is acked. */
static void test_send_ack_out_of_order(void) {
    enum { N = 3000 };
    static uint8_t src[N];
    fill(src, N, 1);
    qc_stream s;
    new_bidi(&s, 1 << 20);
    CHECK(send_side_empty(&s));
    CHECK_EQ(qc_stream_write(&s, src, N), N);
    CHECK_EQ(qc_stream_write_avail(&s), (1 << 20) - N);
    CHECK(s.snd.ring.cap >= N && (s.snd.ring.cap & (s.snd.ring.cap - 1)) == 0);
    CHECK_EQ(s.send_state, QC_SEND_READY);
    expect_chunk(&s, UINT64_MAX, 1000, 0, 1000, false, src);
    CHECK_EQ(qc_stream_on_sent(&s, 0, 1000, false), 0);
    CHECK_EQ(s.send_state, QC_SEND_SEND);
    expect_chunk(&s, UINT64_MAX, 1000, 1000, 1000, false, src);
    CHECK_EQ(qc_stream_on_sent(&s, 1000, 1000, false), 0);
    CHECK_EQ(qc_stream_conclude(&s), 0);
    CHECK_EQ(qc_stream_conclude(&s), 0); /* idempotent */
    expect_chunk(&s, UINT64_MAX, 1000, 2000, 1000, true, src);
    CHECK_EQ(qc_stream_on_sent(&s, 2000, 1000, true), 0);
    CHECK_EQ(s.send_state, QC_SEND_DATA_SENT);
    expect_no_chunk(&s, UINT64_MAX);

    CHECK_EQ(qc_stream_on_acked(&s, 2000, 1000, true), 0);
    CHECK_U64(s.snd.acked_floor, 0);
    CHECK(s.snd.ring.buf != NULL);
    CHECK_EQ(qc_stream_on_acked(&s, 1000, 1000, false), 0);
    CHECK_U64(s.snd.acked_floor, 0);
    CHECK_EQ(s.snd.acked.n, 1);
    CHECK_EQ(s.send_state, QC_SEND_DATA_SENT);
    CHECK(!qc_stream_send_done(&s));
    CHECK_EQ(qc_stream_on_acked(&s, 0, 1000, false), 0);
    CHECK_U64(s.snd.acked_floor, N);
    CHECK_EQ(s.send_state, QC_SEND_DATA_RECVD);
    CHECK(qc_stream_send_done(&s));
    CHECK(send_side_empty(&s));
    /* Late duplicates are harmless. */
    CHECK_EQ(qc_stream_on_acked(&s, 0, 1000, false), 0);
    CHECK_EQ(qc_stream_on_lost(&s, 0, 1000, true), 0);
    expect_no_chunk(&s, UINT64_MAX);
    qc_stream_free(&s);
}

/* In-order acknowledgement frees the front progressively and the ring shrinks to nothing. */
static void test_send_ack_in_order_frees(void) {
    enum { N = 4096 };
    static uint8_t src[N];
    fill(src, N, 2);
    qc_stream s;
    new_bidi(&s, 1 << 20);
    CHECK_EQ(qc_stream_write(&s, src, N), N);
    for (uint64_t off = 0; off < N; off += 512) {
        expect_chunk(&s, UINT64_MAX, 512, off, 512, false, src);
        CHECK_EQ(qc_stream_on_sent(&s, off, 512, false), 0);
    }
    for (uint64_t off = 0; off < N - 512; off += 512) {
        CHECK_EQ(qc_stream_on_acked(&s, off, 512, false), 0);
        CHECK_U64(s.snd.acked_floor, off + 512);
        CHECK_U64(s.snd.ring.base, off + 512);
        CHECK(s.snd.acked.r == NULL); /* merged into the floor, array released */
    }
    CHECK(s.snd.ring.buf != NULL);
    CHECK_EQ(qc_stream_on_acked(&s, N - 512, 512, false), 0);
    CHECK(send_side_empty(&s)); /* no FIN yet, but nothing buffered */
    CHECK_EQ(s.send_state, QC_SEND_SEND);
    /* New data after a full drain: the ring is rebased at the floor. */
    CHECK_EQ(qc_stream_write(&s, src, 100), 100);
    CHECK_U64(s.snd.ring.base, N);
    uint64_t o;
    size_t l;
    bool f;
    CHECK(qc_stream_next_chunk(&s, UINT64_MAX, 1000, &o, &l, &f));
    CHECK_U64(o, N);
    CHECK_EQ(l, 100);
    CHECK(!f);
    uint8_t out[100];
    qc_stream_copy_out(&s, N, 100, out);
    CHECK_MEM(out, src, 100);
    qc_stream_free(&s);
}

/* The flow-control limit caps new data. */
static void test_send_flow_limit(void) {
    static uint8_t src[1000];
    fill(src, sizeof(src), 3);
    qc_stream s;
    new_bidi(&s, 1 << 20);
    CHECK_EQ(qc_stream_write(&s, src, 1000), 1000);
    CHECK_EQ(qc_stream_conclude(&s), 0);
    expect_no_chunk(&s, 0);
    expect_chunk(&s, 300, 1000, 0, 300, false, src);
    CHECK_EQ(qc_stream_on_sent(&s, 0, 300, false), 0);
    expect_no_chunk(&s, 300);
    expect_chunk(&s, 1000, 2000, 300, 700, true, src);
    expect_chunk(&s, 999, 2000, 300, 699, false, src);
    qc_stream_free(&s);
}

/* Lost ranges are resent first with the exact bytes; acked data never is. */
static void test_send_loss_retransmit(void) {
    enum { N = 5000 };
    static uint8_t src[N];
    fill(src, N, 4);
    qc_stream s;
    new_bidi(&s, 1 << 20);
    CHECK_EQ(qc_stream_write(&s, src, N), N);
    for (uint64_t off = 0; off < N; off += 1000)
        CHECK_EQ(qc_stream_on_sent(&s, off, 1000, false), 0);
    CHECK_EQ(qc_stream_on_acked(&s, 0, 1000, false), 0);
    CHECK_EQ(qc_stream_on_acked(&s, 2000, 1000, false), 0);
    CHECK_EQ(qc_stream_on_lost(&s, 1000, 1000, false), 0);
    CHECK_EQ(qc_stream_on_lost(&s, 3000, 1000, false), 0);
    CHECK_EQ(qc_stream_on_lost(&s, 2000, 1000, false), 0); /* acked earlier: ignored */
    CHECK_EQ(qc_stream_on_lost(&s, 0, 1000, false), 0);    /* below the floor: ignored */
    CHECK_EQ(s.snd.lost.n, 2);
    CHECK_U64(qc_rangeset_gap_len(&s.snd.lost, 0, N - 1), N - 2000);
    /* Write more new data: lost data still goes first. */
    CHECK_EQ(qc_stream_write(&s, src, 0), 0);
    expect_chunk(&s, UINT64_MAX, 600, 1000, 600, false, src);
    CHECK_EQ(qc_stream_on_sent(&s, 1000, 600, false), 0);
    expect_chunk(&s, UINT64_MAX, 1000, 1600, 400, false, src);
    CHECK_EQ(qc_stream_on_sent(&s, 1600, 400, false), 0);
    /* [3000,4000) is acknowledged (from its first transmission) before we resend it. */
    CHECK_EQ(qc_stream_on_acked(&s, 3000, 1000, false), 0);
    expect_no_chunk(&s, UINT64_MAX);
    /* A lost range straddling acked data is clipped to the gaps. */
    CHECK_EQ(qc_stream_on_lost(&s, 1000, 4000, false), 0);
    CHECK_EQ(s.snd.lost.n, 2);
    expect_chunk(&s, UINT64_MAX, 5000, 1000, 1000, false, src);
    CHECK_EQ(qc_stream_on_sent(&s, 1000, 1000, false), 0);
    expect_chunk(&s, UINT64_MAX, 5000, 4000, 1000, false, src);
    CHECK_EQ(qc_stream_on_sent(&s, 4000, 1000, false), 0);
    expect_no_chunk(&s, UINT64_MAX);
    CHECK_EQ(qc_stream_on_acked(&s, 1000, 1000, false), 0);
    CHECK_U64(s.snd.acked_floor, 4000);
    CHECK_EQ(qc_stream_on_acked(&s, 4000, 1000, false), 0);
    CHECK(send_side_empty(&s));
    qc_stream_free(&s);
}

/* FIN alone (len 0), FIN retransmission with and without data, empty stream. */
static void test_fin_only(void) {
    static uint8_t src[100];
    fill(src, sizeof(src), 5);
    qc_stream s;
    new_bidi(&s, 1000);
    CHECK_EQ(qc_stream_write(&s, src, 100), 100);
    expect_chunk(&s, UINT64_MAX, 1000, 0, 100, false, src);
    CHECK_EQ(qc_stream_on_sent(&s, 0, 100, false), 0);
    expect_no_chunk(&s, UINT64_MAX);
    CHECK_EQ(qc_stream_conclude(&s), 0);
    expect_chunk(&s, UINT64_MAX, 1000, 100, 0, true, src);
    expect_chunk(&s, 100, 0, 100, 0, true, src); /* needs no credit and no room */
    CHECK_EQ(qc_stream_on_sent(&s, 100, 0, true), 0);
    CHECK_EQ(s.send_state, QC_SEND_DATA_SENT);
    expect_no_chunk(&s, UINT64_MAX);
    CHECK_EQ(qc_stream_on_lost(&s, 100, 0, true), 0);
    CHECK(s.snd.fin_lost);
    expect_chunk(&s, UINT64_MAX, 1000, 100, 0, true, src);
    CHECK_EQ(qc_stream_on_sent(&s, 100, 0, true), 0);
    CHECK(!s.snd.fin_lost);
    CHECK_EQ(qc_stream_on_acked(&s, 100, 0, true), 0);
    CHECK(s.snd.fin_acked);
    CHECK_EQ(s.send_state, QC_SEND_DATA_SENT);        /* data not yet acked */
    CHECK_EQ(qc_stream_on_lost(&s, 100, 0, true), 0); /* FIN acked: not resent */
    expect_no_chunk(&s, UINT64_MAX);
    CHECK_EQ(qc_stream_on_acked(&s, 0, 100, false), 0);
    CHECK_EQ(s.send_state, QC_SEND_DATA_RECVD);
    CHECK(send_side_empty(&s));
    qc_stream_free(&s);

    /* FIN lost together with the last data: resent on the data chunk. */
    new_bidi(&s, 1000);
    CHECK_EQ(qc_stream_write(&s, src, 100), 100);
    CHECK_EQ(qc_stream_conclude(&s), 0);
    expect_chunk(&s, UINT64_MAX, 1000, 0, 100, true, src);
    CHECK_EQ(qc_stream_on_sent(&s, 0, 100, true), 0);
    CHECK_EQ(qc_stream_on_lost(&s, 0, 100, true), 0);
    expect_chunk(&s, UINT64_MAX, 60, 0, 60, false, src);
    CHECK_EQ(qc_stream_on_sent(&s, 0, 60, false), 0);
    expect_chunk(&s, UINT64_MAX, 60, 60, 40, true, src);
    CHECK_EQ(qc_stream_on_sent(&s, 60, 40, true), 0);
    expect_no_chunk(&s, UINT64_MAX);
    /* Only the data is lost now: the FIN is not resent with it. */
    CHECK_EQ(qc_stream_on_lost(&s, 60, 40, false), 0);
    expect_chunk(&s, UINT64_MAX, 1000, 60, 40, false, src);
    qc_stream_free(&s);

    /* An empty stream: FIN at offset 0. */
    new_bidi(&s, 1000);
    CHECK_EQ(qc_stream_conclude(&s), 0);
    expect_chunk(&s, 0, 1000, 0, 0, true, src);
    CHECK_EQ(qc_stream_on_sent(&s, 0, 0, true), 0);
    CHECK_EQ(s.send_state, QC_SEND_DATA_SENT);
    CHECK_EQ(qc_stream_on_acked(&s, 0, 0, true), 0);
    CHECK_EQ(s.send_state, QC_SEND_DATA_RECVD);
    CHECK(qc_stream_send_done(&s));
    CHECK(send_side_empty(&s));
    qc_stream_free(&s);
}

static void test_on_sent_invalid(void) {
    static uint8_t src[100];
    qc_stream s;
    new_bidi(&s, 1000);
    CHECK_EQ(qc_stream_write(&s, src, 100), 100);
    CHECK_EQ(qc_stream_on_sent(&s, 50, 51, false), QC_ERR_INVAL); /* beyond written */
    CHECK_EQ(qc_stream_on_sent(&s, 0, 100, true), QC_ERR_INVAL);  /* FIN not concluded */
    CHECK_EQ(qc_stream_on_sent(&s, 0, 50, false), 0);
    CHECK_EQ(qc_stream_on_acked(&s, 0, 51, false), QC_ERR_INVAL); /* beyond sent */
    CHECK_EQ(qc_stream_on_lost(&s, 40, 11, false), QC_ERR_INVAL);
    CHECK_EQ(qc_stream_conclude(&s), 0);
    CHECK_EQ(qc_stream_on_sent(&s, 0, 50, true), QC_ERR_INVAL); /* FIN not at the end */
    CHECK_EQ(s.send_state, QC_SEND_SEND);
    qc_stream_free(&s);
}

static void test_write_after_conclude_and_reset(void) {
    static uint8_t src[10];
    qc_stream s;
    new_bidi(&s, 1000);
    CHECK_EQ(qc_stream_write(&s, src, 10), 10);
    CHECK_EQ(qc_stream_conclude(&s), 0);
    CHECK_EQ(qc_stream_write(&s, src, 10), QC_ERR_STREAM_STATE);
    CHECK_EQ(qc_stream_write(&s, src, 0), QC_ERR_STREAM_STATE);
    CHECK_EQ(qc_stream_write_avail(&s), 0);
    CHECK_EQ(qc_stream_conclude(&s), 0);
    CHECK_EQ(qc_stream_reset(&s, 9), 0);
    CHECK_EQ(qc_stream_write(&s, src, 10), QC_ERR_STREAM_STATE);
    CHECK_EQ(qc_stream_conclude(&s), QC_ERR_STREAM_STATE);
    CHECK_EQ(qc_stream_reset(&s, 9), QC_ERR_STREAM_STATE);
    qc_stream_free(&s);
}

/* Writes stop at max_buffered and resume as acknowledgements free space. */
static void test_max_buffered(void) {
    static uint8_t src[1500];
    fill(src, sizeof(src), 6);
    qc_stream s;
    new_bidi(&s, 1000);
    CHECK_EQ(qc_stream_write_avail(&s), 1000);
    CHECK_EQ(qc_stream_write(&s, src, 1500), 1000);
    CHECK_EQ(qc_stream_write(&s, src + 1000, 500), 0);
    CHECK_EQ(qc_stream_write_avail(&s), 0);
    CHECK_EQ(qc_stream_on_sent(&s, 0, 1000, false), 0);
    CHECK_EQ(qc_stream_write_avail(&s), 0); /* sent but unacked still counts */
    CHECK_EQ(qc_stream_on_acked(&s, 0, 300, false), 0);
    CHECK_EQ(qc_stream_write_avail(&s), 300);
    CHECK_EQ(qc_stream_write(&s, src + 1000, 500), 300);
    CHECK_U64(s.snd.written, 1300);
    /* The bytes wrapped in the ring correctly. */
    uint8_t out[1000];
    qc_stream_copy_out(&s, 300, 1000, out);
    CHECK_MEM(out, src + 300, 1000);
    qc_stream_free(&s);
}

/* Many small writes grow the ring geometrically; data survives every growth and wrap. */
static void test_growth_and_wrap(void) {
    enum { N = 10000 };
    static uint8_t src[N];
    fill(src, N, 7);
    qc_stream s;
    new_bidi(&s, 1 << 20);
    size_t grows = 0, cap = 0;
    for (size_t off = 0; off < N; off += 10) {
        CHECK_EQ(qc_stream_write(&s, src + off, 10), 10);
        if (s.snd.ring.cap != cap) {
            grows++;
            CHECK(s.snd.ring.cap >= 2 * cap);
            cap = s.snd.ring.cap;
        }
    }
    CHECK_EQ(s.snd.ring.cap, 16384);
    CHECK(grows <= 7); /* 256 -> 16384 */
    /* Send and ack the front, then write past the end of the buffer (wraps). */
    CHECK_EQ(qc_stream_on_sent(&s, 0, 9000, false), 0);
    CHECK_EQ(qc_stream_on_acked(&s, 0, 9000, false), 0);
    static uint8_t more[12000];
    fill(more, sizeof(more), 8);
    CHECK_EQ(qc_stream_write(&s, more, 12000), 12000);
    CHECK_EQ(s.snd.ring.cap, 16384); /* 13000 live bytes fit without growing */
    uint8_t out[13000];
    qc_stream_copy_out(&s, 9000, 1000, out);
    CHECK_MEM(out, src + 9000, 1000);
    qc_stream_copy_out(&s, 10000, 12000, out);
    CHECK_MEM(out, more, 12000);
    /* Grow while wrapped. */
    CHECK_EQ(qc_stream_write(&s, more, 5000), 5000);
    CHECK_EQ(s.snd.ring.cap, 32768);
    qc_stream_copy_out(&s, 9000, 1000, out);
    CHECK_MEM(out, src + 9000, 1000);
    qc_stream_copy_out(&s, 10000, 12000, out);
    CHECK_MEM(out, more, 12000);
    qc_stream_copy_out(&s, 22000, 5000, out);
    CHECK_MEM(out, more, 5000);
    qc_stream_free(&s);
}

static void test_recv_in_order(void) {
    static uint8_t src[200];
    fill(src, sizeof(src), 9);
    qc_stream s;
    new_bidi(&s, 0);
    uint64_t nb = 99;
    uint8_t out[200];
    bool fin = true;
    CHECK_EQ(qc_stream_read(&s, out, 10, &fin), 0);
    CHECK(!fin);
    CHECK_EQ(qc_stream_on_data(&s, 0, src, 100, false, &nb), 0);
    CHECK_U64(nb, 100);
    CHECK_EQ(qc_stream_readable(&s), 100);
    /* Peeking copies without consuming; the read then returns the same bytes. */
    uint8_t peeked[200];
    CHECK_EQ(qc_stream_peek(&s, peeked, 70), 70);
    CHECK_MEM(peeked, src, 70);
    CHECK_EQ(qc_stream_peek(&s, peeked, 200), 100);
    CHECK_MEM(peeked, src, 100);
    CHECK_EQ(qc_stream_readable(&s), 100);
    CHECK_EQ(qc_stream_read(&s, out, 60, &fin), 60);
    CHECK(!fin);
    CHECK_MEM(out, src, 60);
    CHECK_EQ(qc_stream_peek(&s, peeked, 10), 10);
    CHECK_MEM(peeked, src + 60, 10);
    CHECK_EQ(qc_stream_read(&s, out, 100, &fin), 40);
    CHECK_MEM(out, src + 60, 40);
    CHECK(!fin);
    CHECK(recv_side_empty(&s));
    CHECK_EQ(s.recv_state, QC_RECV_RECV);
    CHECK_EQ(qc_stream_on_data(&s, 100, src + 100, 100, false, &nb), 0);
    CHECK_U64(nb, 100);
    CHECK_EQ(qc_stream_read(&s, out, 200, &fin), 100);
    CHECK_MEM(out, src + 100, 100);
    /* FIN-only frame: size known and all data present. */
    CHECK_EQ(qc_stream_on_data(&s, 200, NULL, 0, true, &nb), 0);
    CHECK_U64(nb, 0);
    CHECK_U64(s.rcv.final_size, 200);
    CHECK_EQ(s.recv_state, QC_RECV_DATA_RECVD);
    CHECK_EQ(qc_stream_read(&s, out, 200, &fin), 0);
    CHECK(fin);
    CHECK_EQ(s.recv_state, QC_RECV_DATA_READ);
    CHECK(qc_stream_recv_done(&s));
    CHECK(recv_side_empty(&s));
    fin = false;
    CHECK_EQ(qc_stream_read(&s, out, 200, &fin), 0);
    CHECK(fin);
    /* A retransmission after everything was read is ignored. */
    CHECK_EQ(qc_stream_on_data(&s, 0, src, 200, true, &nb), 0);
    CHECK_U64(nb, 0);
    CHECK(recv_side_empty(&s));
    qc_stream_free(&s);
}

/* A FIN beyond the data counts toward flow control (new_bytes) with no buffering. */
static void test_recv_fin_ahead(void) {
    static uint8_t src[50];
    fill(src, sizeof(src), 10);
    qc_stream s;
    new_bidi(&s, 0);
    uint64_t nb = 0;
    CHECK_EQ(qc_stream_on_data(&s, 50, NULL, 0, true, &nb), 0);
    CHECK_U64(nb, 50);
    CHECK(recv_side_empty(&s));
    CHECK_EQ(s.recv_state, QC_RECV_SIZE_KNOWN);
    CHECK_EQ(qc_stream_on_data(&s, 10, src + 10, 40, false, &nb), 0);
    CHECK_U64(nb, 0);
    CHECK_EQ(qc_stream_readable(&s), 0);
    CHECK_EQ(s.recv_state, QC_RECV_SIZE_KNOWN);
    CHECK_EQ(qc_stream_on_data(&s, 0, src, 10, false, &nb), 0);
    CHECK_EQ(s.recv_state, QC_RECV_DATA_RECVD);
    uint8_t out[50];
    bool fin = false;
    CHECK_EQ(qc_stream_read(&s, out, 50, &fin), 50);
    CHECK(fin);
    CHECK_MEM(out, src, 50);
    CHECK_EQ(s.recv_state, QC_RECV_DATA_READ);
    qc_stream_free(&s);
}

/* 1 MB delivered as shuffled, overlapping and duplicated segments, read as it arrives. */
static void test_recv_reassembly_random(void) {
    enum { N = 1 << 20, MAXSEG = 64 };
    uint8_t *src = malloc(N), *dst = malloc(N);
    fill(src, N, 11);
    struct seg {
        uint32_t off, len;
    };
    size_t cap = 4096, n = 0;
    struct seg *segs = malloc(cap * sizeof(*segs));
    rng_state = 12345;
    /* A covering partition, then random overlapping extras and exact duplicates. */
    for (uint32_t off = 0; off < N;) {
        uint32_t len = (uint32_t)(1 + rnd() % 3000);
        if (len > N - off) len = N - off;
        if (n == cap) segs = realloc(segs, (cap *= 2) * sizeof(*segs));
        segs[n++] = (struct seg){off, len};
        off += len;
    }
    size_t base = n;
    for (size_t i = 0; i < base; i++) {
        if (n + 2 >= cap) segs = realloc(segs, (cap *= 2) * sizeof(*segs));
        uint32_t off = (uint32_t)(rnd() % N);
        uint32_t len = (uint32_t)(1 + rnd() % 5000);
        if (len > N - off) len = N - off;
        segs[n++] = (struct seg){off, len};
        if (i % 4 == 0) segs[n++] = segs[rnd() % base];
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rnd() % (i + 1);
        struct seg t = segs[i];
        segs[i] = segs[j];
        segs[j] = t;
    }
    qc_stream s;
    new_bidi(&s, 0);
    uint64_t total_new = 0, nb, read = 0;
    bool fin = false;
    for (size_t i = 0; i < n; i++) {
        bool f = segs[i].off + segs[i].len == N && (rnd() & 1);
        int rv = qc_stream_on_data(&s, segs[i].off, src + segs[i].off, segs[i].len, f, &nb);
        CHECK_EQ(rv, 0);
        if (rv) break;
        total_new += nb;
        CHECK_U64(s.rcv.highest, total_new);
        if (rnd() % 8 == 0) {
            size_t got = qc_stream_read(&s, dst + read, (size_t)(rnd() % 100000), &fin);
            read += got;
        }
        CHECK(s.rcv.ring.cap == 0 || (s.rcv.ring.cap & (s.rcv.ring.cap - 1)) == 0);
    }
    CHECK_U64(total_new, N);
    if (s.rcv.final_size == UINT64_MAX) /* no FIN drawn: send it alone */
        CHECK_EQ(qc_stream_on_data(&s, N, NULL, 0, true, &nb), 0);
    CHECK(s.recv_state == QC_RECV_DATA_RECVD || (s.recv_state == QC_RECV_DATA_READ && fin));
    while (!fin) {
        size_t got = qc_stream_read(&s, dst + read, N, &fin);
        if (got == 0 && !fin) break;
        read += got;
    }
    CHECK(fin);
    CHECK_U64(read, N);
    CHECK_MEM(dst, src, N);
    CHECK_EQ(s.recv_state, QC_RECV_DATA_READ);
    CHECK(recv_side_empty(&s));
    qc_stream_free(&s);
    free(segs);
    free(src);
    free(dst);
}

/* Each final-size violation of RFC 9000 §4.5. */
static void test_final_size_errors(void) {
    static uint8_t src[300];
    qc_stream s;
    uint64_t nb;
    /* FIN at 100, then data beyond it. */
    new_bidi(&s, 0);
    CHECK_EQ(qc_stream_on_data(&s, 0, src, 100, true, &nb), 0);
    CHECK_EQ(qc_stream_on_data(&s, 50, src, 51, false, &nb), QC_ERR_FINAL_SIZE);
    CHECK_EQ(qc_stream_on_data(&s, 101, NULL, 0, false, &nb), QC_ERR_FINAL_SIZE);
    CHECK_EQ(qc_stream_on_data(&s, 50, src, 50, false, &nb), 0); /* within: fine */
    /* The final size changes. */
    CHECK_EQ(qc_stream_on_data(&s, 0, src, 90, true, &nb), QC_ERR_FINAL_SIZE);
    CHECK_EQ(qc_stream_on_data(&s, 0, src, 110, true, &nb), QC_ERR_FINAL_SIZE);
    CHECK_EQ(qc_stream_on_data(&s, 100, NULL, 0, true, &nb), 0); /* same: fine */
    CHECK_EQ(qc_stream_on_reset(&s, 1, 99, &nb), QC_ERR_FINAL_SIZE);
    CHECK_EQ(qc_stream_on_reset(&s, 1, 101, &nb), QC_ERR_FINAL_SIZE);
    CHECK_EQ(s.recv_state, QC_RECV_DATA_RECVD);
    qc_stream_free(&s);

    /* FIN below data already received. */
    new_bidi(&s, 0);
    CHECK_EQ(qc_stream_on_data(&s, 100, src, 100, false, &nb), 0);
    CHECK_EQ(qc_stream_on_data(&s, 0, src, 150, true, &nb), QC_ERR_FINAL_SIZE);
    CHECK_EQ(qc_stream_on_data(&s, 150, NULL, 0, true, &nb), QC_ERR_FINAL_SIZE);
    CHECK_EQ(qc_stream_on_reset(&s, 1, 199, &nb), QC_ERR_FINAL_SIZE);
    CHECK_EQ(s.recv_state, QC_RECV_RECV);
    CHECK_U64(s.rcv.final_size, UINT64_MAX);
    CHECK_EQ(qc_stream_on_data(&s, 0, src, 200, true, &nb), 0); /* at the highest: fine */
    CHECK_U64(s.rcv.final_size, 200);
    qc_stream_free(&s);

    /* After a reset the final size is fixed too. */
    new_bidi(&s, 0);
    CHECK_EQ(qc_stream_on_reset(&s, 1, 300, &nb), 0);
    CHECK_U64(nb, 300);
    CHECK_EQ(qc_stream_on_data(&s, 250, src, 51, false, &nb), QC_ERR_FINAL_SIZE);
    CHECK_EQ(qc_stream_on_data(&s, 0, src, 200, true, &nb), QC_ERR_FINAL_SIZE);
    CHECK_EQ(qc_stream_on_reset(&s, 1, 301, &nb), QC_ERR_FINAL_SIZE);
    CHECK_EQ(qc_stream_on_reset(&s, 1, 300, &nb), 0);
    CHECK_U64(nb, 0);
    CHECK_EQ(qc_stream_on_data(&s, 250, src, 50, true, &nb), 0);
    CHECK_U64(nb, 0);
    CHECK(recv_side_empty(&s));
    qc_stream_free(&s);

    /* Offsets past 2^62 - 1. */
    new_bidi(&s, 0);
    CHECK_EQ(qc_stream_on_data(&s, QC_MAX_VARINT, src, 1, false, &nb), QC_ERR_FLOW_CONTROL);
    CHECK_EQ(qc_stream_on_reset(&s, 1, QC_MAX_VARINT + 1, &nb), QC_ERR_FLOW_CONTROL);
    qc_stream_free(&s);
}

/* RESET_STREAM received: buffered data dropped, counted, reported once by read. */
static void test_recv_reset(void) {
    static uint8_t src[500];
    fill(src, sizeof(src), 13);
    qc_stream s;
    uint64_t nb;
    new_bidi(&s, 0);
    CHECK_EQ(qc_stream_on_data(&s, 0, src, 100, false, &nb), 0);
    CHECK_EQ(qc_stream_on_data(&s, 200, src + 200, 100, false, &nb), 0);
    CHECK(s.rcv.ring.buf != NULL);
    CHECK_EQ(qc_stream_on_reset(&s, 77, 500, &nb), 0);
    CHECK_U64(nb, 200);
    CHECK_U64(s.rcv.highest, 500);
    CHECK_U64(s.rcv.final_size, 500);
    CHECK_U64(s.reset_code_recvd, 77);
    CHECK_EQ(s.recv_state, QC_RECV_RESET_RECVD);
    CHECK(recv_side_empty(&s));
    CHECK_EQ(qc_stream_readable(&s), 0);
    CHECK(!qc_stream_recv_done(&s));
    CHECK_EQ(qc_stream_on_data(&s, 100, src + 100, 100, false, &nb), 0);
    CHECK(recv_side_empty(&s));
    uint8_t out[10];
    bool fin = true;
    CHECK_EQ(qc_stream_read(&s, out, 10, &fin), 0);
    CHECK(!fin);
    CHECK_EQ(s.recv_state, QC_RECV_RESET_READ);
    CHECK(qc_stream_recv_done(&s));
    CHECK_EQ(qc_stream_on_reset(&s, 77, 500, &nb), 0);
    CHECK_EQ(s.recv_state, QC_RECV_RESET_READ);
    qc_stream_free(&s);
}

/* Sending-part states of RFC 9000 §3.1, every state and every reset entry. */
static void test_send_states(void) {
    static uint8_t src[10];
    qc_stream s;
    /* Ready -> Reset Sent -> Reset Recvd. */
    new_bidi(&s, 100);
    CHECK_EQ(s.send_state, QC_SEND_READY);
    CHECK_EQ(qc_stream_reset(&s, 5), 0);
    CHECK_EQ(s.send_state, QC_SEND_RESET_SENT);
    CHECK_U64(s.reset_code_sent, 5);
    CHECK(!qc_stream_send_done(&s));
    expect_no_chunk(&s, UINT64_MAX);
    qc_stream_on_reset_acked(&s);
    CHECK_EQ(s.send_state, QC_SEND_RESET_RECVD);
    CHECK(qc_stream_send_done(&s));
    qc_stream_on_reset_acked(&s); /* repeat: no change */
    CHECK_EQ(s.send_state, QC_SEND_RESET_RECVD);
    qc_stream_free(&s);

    /* Send -> Reset Sent: data released, acks and losses ignored, sent offset kept. */
    new_bidi(&s, 100);
    CHECK_EQ(qc_stream_write(&s, src, 10), 10);
    CHECK_EQ(qc_stream_on_sent(&s, 0, 5, false), 0);
    CHECK_EQ(s.send_state, QC_SEND_SEND);
    CHECK_EQ(qc_stream_on_stop_sending(&s, 42), 0);
    CHECK(s.stop_sending_recvd);
    CHECK_U64(s.stop_code_recvd, 42);
    CHECK_EQ(qc_stream_reset(&s, s.stop_code_recvd), 0);
    CHECK_EQ(s.send_state, QC_SEND_RESET_SENT);
    CHECK_U64(s.reset_code_sent, 42);
    CHECK_U64(s.snd.sent, 5); /* the final size the RESET_STREAM carries */
    CHECK(send_side_empty(&s));
    CHECK_EQ(qc_stream_on_acked(&s, 0, 5, false), 0);
    CHECK_EQ(qc_stream_on_lost(&s, 0, 5, false), 0);
    CHECK(send_side_empty(&s));
    CHECK_EQ(qc_stream_on_sent(&s, 5, 5, false), QC_ERR_STREAM_STATE);
    CHECK_EQ(qc_stream_on_stop_sending(&s, 43), 0); /* repeat: first code kept */
    CHECK_U64(s.stop_code_recvd, 42);
    qc_stream_free(&s);

    /* Data Sent -> Reset Sent. */
    new_bidi(&s, 100);
    CHECK_EQ(qc_stream_write(&s, src, 10), 10);
    CHECK_EQ(qc_stream_conclude(&s), 0);
    CHECK_EQ(qc_stream_on_sent(&s, 0, 10, true), 0);
    CHECK_EQ(s.send_state, QC_SEND_DATA_SENT);
    CHECK_EQ(qc_stream_reset(&s, 1), 0);
    CHECK_EQ(s.send_state, QC_SEND_RESET_SENT);
    qc_stream_free(&s);

    /* Data Recvd: a reset is too late. */
    new_bidi(&s, 100);
    CHECK_EQ(qc_stream_conclude(&s), 0);
    CHECK_EQ(qc_stream_on_sent(&s, 0, 0, true), 0);
    CHECK_EQ(qc_stream_on_acked(&s, 0, 0, true), 0);
    CHECK_EQ(s.send_state, QC_SEND_DATA_RECVD);
    CHECK_EQ(qc_stream_reset(&s, 1), QC_ERR_STREAM_STATE);
    CHECK_EQ(s.send_state, QC_SEND_DATA_RECVD);
    qc_stream_free(&s);
}

/* Receiving-part states of RFC 9000 §3.2. */
static void test_recv_states(void) {
    static uint8_t src[100];
    fill(src, sizeof(src), 14);
    qc_stream s;
    uint64_t nb;
    uint8_t out[100];
    bool fin;
    new_bidi(&s, 0);
    CHECK_EQ(s.recv_state, QC_RECV_RECV);
    CHECK_EQ(qc_stream_on_data(&s, 50, src + 50, 50, true, &nb), 0);
    CHECK_EQ(s.recv_state, QC_RECV_SIZE_KNOWN);
    CHECK_EQ(qc_stream_on_data(&s, 0, src, 50, false, &nb), 0);
    CHECK_EQ(s.recv_state, QC_RECV_DATA_RECVD);
    CHECK(!qc_stream_recv_done(&s));
    CHECK_EQ(qc_stream_read(&s, out, 30, &fin), 30);
    CHECK(!fin);
    CHECK_EQ(s.recv_state, QC_RECV_DATA_RECVD);
    CHECK_EQ(qc_stream_read(&s, out + 30, 100, &fin), 70);
    CHECK(fin);
    CHECK_MEM(out, src, 100);
    CHECK_EQ(s.recv_state, QC_RECV_DATA_READ);
    CHECK(qc_stream_recv_done(&s));
    CHECK_EQ(qc_stream_on_reset(&s, 3, 100, &nb), 0); /* too late to matter */
    CHECK_EQ(s.recv_state, QC_RECV_DATA_READ);
    qc_stream_free(&s);

    /* Size Known -> Reset Recvd. */
    new_bidi(&s, 0);
    CHECK_EQ(qc_stream_on_data(&s, 50, src + 50, 50, true, &nb), 0);
    CHECK_EQ(qc_stream_on_reset(&s, 3, 100, &nb), 0);
    CHECK_EQ(s.recv_state, QC_RECV_RESET_RECVD);
    qc_stream_free(&s);

    /* Data Recvd -> Reset Recvd: unread data discarded. */
    new_bidi(&s, 0);
    CHECK_EQ(qc_stream_on_data(&s, 0, src, 100, true, &nb), 0);
    CHECK_EQ(s.recv_state, QC_RECV_DATA_RECVD);
    CHECK_EQ(qc_stream_on_reset(&s, 3, 100, &nb), 0);
    CHECK_EQ(s.recv_state, QC_RECV_RESET_RECVD);
    CHECK(recv_side_empty(&s));
    CHECK_EQ(qc_stream_read(&s, out, 100, &fin), 0);
    CHECK_EQ(s.recv_state, QC_RECV_RESET_READ);
    qc_stream_free(&s);

    /* Recv -> Reset Recvd with nothing received. */
    new_bidi(&s, 0);
    CHECK_EQ(qc_stream_on_reset(&s, 4, 0, &nb), 0);
    CHECK_U64(nb, 0);
    CHECK_EQ(s.recv_state, QC_RECV_RESET_RECVD);
    CHECK_U64(s.reset_code_recvd, 4);
    qc_stream_free(&s);
}

int main(void) {
    TEST_RUN(test_init_roles);
    TEST_RUN(test_send_ack_out_of_order);
    TEST_RUN(test_send_ack_in_order_frees);
    TEST_RUN(test_send_flow_limit);
    TEST_RUN(test_send_loss_retransmit);
    TEST_RUN(test_fin_only);
    TEST_RUN(test_on_sent_invalid);
    TEST_RUN(test_write_after_conclude_and_reset);
    TEST_RUN(test_max_buffered);
    TEST_RUN(test_growth_and_wrap);
    TEST_RUN(test_recv_in_order);
    TEST_RUN(test_recv_fin_ahead);
    TEST_RUN(test_recv_reassembly_random);
    TEST_RUN(test_final_size_errors);
    TEST_RUN(test_recv_reset);
    TEST_RUN(test_send_states);
    TEST_RUN(test_recv_states);
    return test_summary();
}
