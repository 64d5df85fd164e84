/* fuzzconn.c: the scripted hostile peer of the connection fuzz targets (see fuzzconn.h). */
#include "support/fuzzconn.h"

#include "core/conn_internal.h"
#include "fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct script {
    const uint8_t *p;
    size_t n;
} script;

static uint8_t next8(script *sc) {
    if (!sc->n) return 0;
    sc->n--;
    return *sc->p++;
}

static size_t take(script *sc, size_t want, const uint8_t **out) {
    size_t n = want < sc->n ? want : sc->n;
    *out = sc->p;
    sc->p += n;
    sc->n -= n;
    return n;
}

static void seal_and_send(sim *s, bool attack_server, uint8_t op, script *sc) {
    qc_conn *from = attack_server ? s->client : s->server;
    const uint8_t *frames;
    size_t want = (size_t)next8(sc) << 8 | next8(sc);
    size_t n = take(sc, want % 1400, &frames);
    if (!from) return;
    static const enum qc_epoch order[] = {QC_EPOCH_INITIAL, QC_EPOCH_HANDSHAKE, QC_EPOCH_1RTT};
    enum qc_epoch ep = order[(op >> 3) % 3];
    if (!from->keys.has_tx[ep])
        for (int i = 2; i >= 0; i--)
            if (from->keys.has_tx[order[i]]) {
                ep = order[i];
                break;
            }
    uint8_t dg[1500];
    size_t len = sim_seal(from, ep, frames, n, dg, sizeof(dg));
    if (len) sim_inject(s, attack_server, dg, len);
}

static void raw(sim *s, bool attack_server, script *sc) {
    const uint8_t *p;
    size_t want = (size_t)next8(sc) << 8 | next8(sc);
    size_t n = take(sc, want % 1500, &p);
    uint8_t dg[1500];
    memcpy(dg, p, n);
    sim_inject(s, attack_server, dg, n);
}

static void app_act(qc_conn *v, uint8_t what, qc_ts now) {
    static uint8_t data[20000];
    uint64_t id;
    switch (what % 6) {
    case 0:
    case 1:
        if (qc_conn_stream_open(v, what % 6 == 1, false, &id) == 0) {
            size_t len = (size_t)(what >> 3) * 600; /* at most 18,600 */
            for (size_t i = 0; i < len; i++)
                data[i] = (uint8_t)(i * 13);
            int64_t w = qc_conn_stream_write(v, id, data, len, (what & 4) != 0);
            FZ_CHECK(w >= 0 || w == QC_ERR_STREAM_STATE);
        }
        break;
    case 2:
        while (qc_conn_stream_accept(v, &id)) {
            bool fin = false;
            int64_t r = qc_conn_stream_read(v, id, data, sizeof(data), &fin);
            (void)r;
        }
        break;
    case 3:
        for (uint64_t i = 0; i < 16; i++)
            if (qc_conn_stream_exists(v, i * 4 + (what >> 6))) {
                qc_conn_stream_reset(v, i * 4 + (what >> 6), what);
                break;
            }
        break;
    case 4:
        for (uint64_t i = 0; i < 16; i++)
            if (qc_conn_stream_exists(v, i * 4 + (what >> 6))) {
                qc_conn_stream_stop_sending(v, i * 4 + (what >> 6), what);
                break;
            }
        break;
    default:
        qc_conn_initiate_key_update(v);
        break;
    }
    (void)now;
}

/* Drops every datagram on its way to the victim. */
static bool drop_all(sim *s, int to_server, uint8_t *data, size_t *len, void *user) {
    (void)s, (void)data, (void)len;
    return to_server != *(int *)user;
}

void fzc_play(sim *s, bool attack_server, const uint8_t *data, size_t size) {
    sim_reset(s, 7);
    FZ_CHECK(sim_start(s) == 0);
    if (attack_server) FZ_CHECK(sim_run(s, s->now + 5 * QC_SEC, sim_cond_established, NULL));
    script sc = {data, size};
    for (int rec = 0; sc.n && rec < 200; rec++) {
        uint8_t op = next8(&sc);
        qc_conn *victim = attack_server ? s->server : s->client;
        switch (op % 5) {
        case 0:
            seal_and_send(s, attack_server, op, &sc);
            break;
        case 1:
            raw(s, attack_server, &sc);
            break;
        case 2:
            sim_run(s, s->now + (qc_ts)next8(&sc) * QC_MS, NULL, NULL);
            break;
        case 3:
            if (victim) app_act(victim, next8(&sc), s->now);
            break;
        default: {
            int to_server = attack_server;
            s->tap = drop_all;
            s->tap_user = &to_server;
            sim_run(s, s->now + QC_MS, NULL, NULL);
            s->tap = NULL;
            break;
        }
        }
    }
    sim_run(s, s->now + 3 * QC_SEC, NULL, NULL);
    qc_conn *victim = attack_server ? s->server : s->client;
    if (victim) {
        const qc_close_info *ci = qc_conn_close_info(victim);
        if (ci->set && ci->local && !ci->app && !ci->idle)
            FZ_CHECK(ci->error_code <= 0x10 ||
                     (ci->error_code >= 0x100 && ci->error_code <= 0x1ff));
    }
}
