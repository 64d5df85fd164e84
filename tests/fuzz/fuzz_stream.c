/*
 * fuzz_stream: stream reassembly and retransmission (core/stream.c) against
 * a simple model. A stream's content is a fixed pattern (byte at offset o is
 * pat(o)), so every byte read or copied out can be checked byte for byte.
 *
 * Receiving part: the input is a list of operations (STREAM frame at an
 * offset, RESET_STREAM, read, peek). The model keeps which offsets arrived,
 * the final size and the highest offset, and predicts the exact result of
 * every call: QC_ERR_FINAL_SIZE exactly where RFC 9000 §4.5 says, readable
 * bytes exactly the contiguous run after the read offset, FIN exactly at the
 * final size.
 *
 * Sending part: writes, conclude, packets built with next_chunk, and
 * acknowledgements and losses of those packets in any order. Every chunk's
 * bytes are checked, nothing below the acknowledged floor is offered again,
 * and at the end, sending and acknowledging everything left must finish the
 * stream.
 */
#include "fuzz/fuzz.h"

#include "core/stream.h"

#define WINDOW 4096 /* receive flow-control window the caller would enforce */

static uint8_t pat(uint64_t o) {
    return (uint8_t)(o * 31 + (o >> 8) * 7 + 3);
}

typedef struct rmodel {
    uint8_t got[WINDOW + 64];
    uint64_t read, highest, final;
    bool reset;
    bool fin_read; /* the application read the FIN: a later reset changes nothing */
} rmodel;

static void fill_pat(uint8_t *buf, uint64_t off, size_t len) {
    for (size_t i = 0; i < len; i++)
        buf[i] = pat(off + i);
}

static size_t model_readable(const rmodel *m) {
    size_t n = 0;
    while (m->read + n < m->highest && m->got[m->read + n])
        n++;
    return n;
}

static void fuzz_recv(fz_in *in) {
    qc_stream s;
    qc_stream_init(&s, 0 /* client bidi */, true, 1 << 20);
    rmodel *m = calloc(1, sizeof(*m));
    m->final = UINT64_MAX;
    uint8_t buf[WINDOW + 64];
    for (int op = 0; in->n && op < 400; op++) {
        uint8_t kind = fz_u8(in);
        uint64_t off = fz_u16(in) % WINDOW, len = fz_u16(in) % 1500;
        if (off + len > WINDOW) len = WINDOW - off;
        switch (kind % 6) {
        case 0:
        case 1:
        case 2: { /* STREAM frame, FIN when kind has bit 3 */
            bool fin = (kind & 8) != 0;
            uint64_t end = off + len;
            int expect = 0;
            if (m->final != UINT64_MAX && (end > m->final || (fin && end != m->final)))
                expect = QC_ERR_FINAL_SIZE;
            else if (fin && end < m->highest)
                expect = QC_ERR_FINAL_SIZE;
            fill_pat(buf, off, len);
            uint8_t *data = fz_dup(buf, len);
            uint64_t grow = 0;
            int rv = qc_stream_on_data(&s, off, data, len, fin, &grow);
            free(data);
            if (m->reset) { /* after a reset, data only checks the final size */
                FZ_CHECK(rv == expect || rv == 0);
                break;
            }
            FZ_CHECK(rv == expect);
            if (rv) break;
            FZ_CHECK(grow == (end > m->highest ? end - m->highest : 0));
            if (end > m->highest) m->highest = end;
            if (fin) m->final = end;
            for (uint64_t i = off; i < end; i++)
                if (i >= m->read) m->got[i] = 1;
            break;
        }
        case 3: { /* RESET_STREAM with a final size */
            uint64_t fsz = off;
            int expect = 0;
            if (m->final != UINT64_MAX ? fsz != m->final : fsz < m->highest)
                expect = QC_ERR_FINAL_SIZE;
            uint64_t grow = 0;
            int rv = qc_stream_on_reset(&s, len, fsz, &grow);
            FZ_CHECK(rv == expect);
            if (rv || m->fin_read) break;
            if (fsz > m->highest) m->highest = fsz;
            m->final = fsz;
            m->reset = true;
            break;
        }
        case 4: { /* read */
            bool fin = false;
            size_t want = model_readable(m);
            if (!m->reset) FZ_CHECK(qc_stream_readable(&s) == want);
            size_t n = qc_stream_read(&s, buf, len, &fin);
            if (m->reset) {
                FZ_CHECK(n == 0 && !fin);
                break;
            }
            FZ_CHECK(n == (want < len ? want : len));
            for (size_t i = 0; i < n; i++)
                FZ_CHECK(buf[i] == pat(m->read + i));
            m->read += n;
            if (fin) FZ_CHECK(m->read == m->final);
            m->fin_read = m->fin_read || fin;
            if (n && m->read == m->final) FZ_CHECK(fin);
            break;
        }
        default: { /* peek */
            if (m->reset) break;
            size_t want = model_readable(m);
            size_t n = qc_stream_peek(&s, buf, len);
            FZ_CHECK(n == (want < len ? want : len));
            for (size_t i = 0; i < n; i++)
                FZ_CHECK(buf[i] == pat(m->read + i));
            break;
        }
        }
    }
    free(m);
    qc_stream_free(&s);
}

typedef struct chunk {
    uint64_t off;
    size_t len;
    bool fin, done;
} chunk;

static void check_chunk(const qc_stream *s, uint64_t off, size_t len, bool fin, uint64_t written,
                        bool concluded) {
    FZ_CHECK(off + len <= written);
    FZ_CHECK(off >= s->snd.acked_floor);
    if (fin) FZ_CHECK(concluded && off + len == written);
    uint8_t buf[1500];
    qc_stream_copy_out(s, off, len, buf);
    for (size_t i = 0; i < len; i++)
        FZ_CHECK(buf[i] == pat(off + i));
}

static void fuzz_send(fz_in *in) {
    qc_stream s;
    qc_stream_init(&s, 0, false, 16384);
    chunk sent[64];
    size_t nsent = 0;
    uint64_t written = 0;
    bool concluded = false, reset = false;
    uint8_t buf[2048];
    for (int op = 0; in->n && op < 400; op++) {
        uint8_t kind = fz_u8(in);
        size_t arg = fz_u16(in);
        switch (kind % 6) {
        case 0: { /* write */
            size_t len = arg % sizeof(buf);
            fill_pat(buf, written, len);
            int64_t n = qc_stream_write(&s, buf, len);
            if (concluded || reset) {
                FZ_CHECK(n == QC_ERR_STREAM_STATE);
                break;
            }
            FZ_CHECK(n >= 0 && (size_t)n <= len);
            written += (uint64_t)n;
            break;
        }
        case 1: /* conclude */
            if (reset) {
                FZ_CHECK(qc_stream_conclude(&s) == QC_ERR_STREAM_STATE);
                break;
            }
            FZ_CHECK(qc_stream_conclude(&s) == 0);
            concluded = true;
            break;
        case 2: { /* build a packet */
            uint64_t off;
            size_t len;
            bool fin;
            if (reset || nsent == 64) break;
            if (!qc_stream_next_chunk(&s, UINT64_MAX, 1 + arg % 1400, &off, &len, &fin)) break;
            check_chunk(&s, off, len, fin, written, concluded);
            FZ_CHECK(qc_stream_on_sent(&s, off, len, fin) == 0);
            sent[nsent++] = (chunk){off, len, fin, false};
            break;
        }
        case 3:   /* acknowledged */
        case 4: { /* lost */
            if (!nsent) break;
            chunk *c = &sent[arg % nsent];
            if (c->done) break;
            c->done = true;
            int rv = kind % 6 == 3 ? qc_stream_on_acked(&s, c->off, c->len, c->fin)
                                   : qc_stream_on_lost(&s, c->off, c->len, c->fin);
            FZ_CHECK(rv == 0);
            break;
        }
        default: /* reset */
            if (qc_stream_reset(&s, arg) == 0) reset = true;
            break;
        }
    }
    if (reset || !concluded) {
        qc_stream_free(&s);
        return;
    }
    /* Everything still in flight is lost, then all is sent again and acknowledged. */
    for (size_t i = 0; i < nsent; i++)
        if (!sent[i].done)
            FZ_CHECK(qc_stream_on_lost(&s, sent[i].off, sent[i].len, sent[i].fin) == 0);
    for (int i = 0; i < 100000; i++) {
        uint64_t off;
        size_t len;
        bool fin;
        if (!qc_stream_next_chunk(&s, UINT64_MAX, 1200, &off, &len, &fin)) break;
        check_chunk(&s, off, len, fin, written, concluded);
        FZ_CHECK(qc_stream_on_sent(&s, off, len, fin) == 0);
        FZ_CHECK(qc_stream_on_acked(&s, off, len, fin) == 0);
    }
    FZ_CHECK(qc_stream_send_done(&s));
    qc_stream_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    if (fz_u8(&in) & 1)
        fuzz_send(&in);
    else
        fuzz_recv(&in);
    return 0;
}
