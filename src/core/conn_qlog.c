/*
 * conn_qlog.c: the connection's qlog events (core/qlog.h): packet_sent and
 * packet_received with their frames, packet_lost, metrics_updated after each
 * ACK, key_updated, version_information and connection_closed.
 */
#include "core/conn_internal.h"

#include <stdio.h>

static void emit(qc_conn *c, qc_ts now, const char *name, const qc_qlog_buf *b) {
    c->cfg.qlog(c->cfg.qlog_user, now, name, b->s);
}

static void header(qc_qlog_buf *b, const qc_conn *c, enum qc_pkt_type t, uint64_t pn) {
    qc_qlog_add(b, "\"header\":{\"packet_type\":\"%s\",\"packet_number\":%llu",
                qc_qlog_packet_type(t), (unsigned long long)pn);
    if (t == QC_PT_1RTT) qc_qlog_add(b, ",\"key_phase\":%d", c->keys.tx_phase ? 1 : 0);
    qc_qlog_add(b, "}");
}

static const char *ctl_name(uint64_t id) {
    static const char *names[QC_CTL_COUNT] = {[QC_CTL_PATH_RESPONSE] = "path_response",
                                              [QC_CTL_HANDSHAKE_DONE] = "handshake_done",
                                              [QC_CTL_NEW_TOKEN] = "new_token",
                                              [QC_CTL_MAX_DATA] = "max_data",
                                              [QC_CTL_MAX_STREAMS_BIDI] = "max_streams",
                                              [QC_CTL_MAX_STREAMS_UNI] = "max_streams",
                                              [QC_CTL_STREAMS_BLOCKED_BIDI] = "streams_blocked",
                                              [QC_CTL_STREAMS_BLOCKED_UNI] = "streams_blocked",
                                              [QC_CTL_DATA_BLOCKED] = "data_blocked"};
    return id < QC_CTL_COUNT && names[id] ? names[id] : "unknown";
}

/* A sent frame as qlog describes it. */
static void sent_frame(qc_qlog_buf *b, const qc_sent_frame *f) {
    static const char *kinds[] = {[QC_SK_STREAM] = "stream",
                                  [QC_SK_CRYPTO] = "crypto",
                                  [QC_SK_ACK] = "ack",
                                  [QC_SK_RESET_STREAM] = "reset_stream",
                                  [QC_SK_STOP_SENDING] = "stop_sending",
                                  [QC_SK_MAX_STREAM_DATA] = "max_stream_data",
                                  [QC_SK_STREAM_DATA_BLOCKED] = "stream_data_blocked",
                                  [QC_SK_NEW_CID] = "new_connection_id",
                                  [QC_SK_RETIRE_CID] = "retire_connection_id",
                                  [QC_SK_PING] = "ping",
                                  [QC_SK_DATAGRAM] = "datagram"};
    const char *name = f->kind == QC_SK_CTL                              ? ctl_name(f->id)
                       : f->kind < QC_ARRAY_LEN(kinds) && kinds[f->kind] ? kinds[f->kind]
                                                                         : "unknown";
    qc_qlog_add(b, "{\"frame_type\":\"%s\"", name);
    if (f->kind == QC_SK_STREAM)
        qc_qlog_add(b, ",\"stream_id\":%llu,\"offset\":%llu,\"length\":%u%s",
                    (unsigned long long)f->id, (unsigned long long)f->offset, (unsigned)f->len,
                    f->fin ? ",\"fin\":true" : "");
    else if (f->kind == QC_SK_CRYPTO)
        qc_qlog_add(b, ",\"offset\":%llu,\"length\":%u", (unsigned long long)f->offset,
                    (unsigned)f->len);
    qc_qlog_add(b, "}");
}

void qc_conn_qlog_sent(qc_conn *c, enum qc_pkt_type t, const qc_sent_pkt *p, qc_ts now) {
    if (!c->cfg.qlog) return;
    qc_qlog_buf b;
    qc_qlog_init(&b);
    qc_qlog_add(&b, "{");
    header(&b, c, t, p->pn);
    qc_qlog_add(&b, ",\"raw\":{\"length\":%u},\"frames\":[", (unsigned)p->size);
    for (unsigned i = 0; i < p->nframes; i++) {
        if (i) qc_qlog_add(&b, ",");
        sent_frame(&b, &p->frames[i]);
    }
    qc_qlog_add(&b, "]}");
    if (!b.full) emit(c, now, "quic:packet_sent", &b);
}

void qc_conn_qlog_received(qc_conn *c, enum qc_pkt_type t, uint64_t pn, int key_phase, size_t len,
                           const uint8_t *payload, size_t plen, qc_ts now) {
    if (!c->cfg.qlog) return;
    qc_qlog_buf b;
    qc_qlog_init(&b);
    qc_qlog_add(&b, "{\"header\":{\"packet_type\":\"%s\",\"packet_number\":%llu",
                qc_qlog_packet_type(t), (unsigned long long)pn);
    if (key_phase >= 0) qc_qlog_add(&b, ",\"key_phase\":%d", key_phase);
    qc_qlog_add(&b, "}");
    qc_qlog_add(&b, ",\"raw\":{\"length\":%zu},\"frames\":[", len);
    qc_rd r = qc_rd_init(payload, plen);
    bool first = true;
    while (qc_rd_left(&r) > 0 && !b.full) {
        qc_frame f;
        if (qc_frame_decode(&r, &f) != 0) break;
        if (f.type == QC_FT_PADDING) continue;
        if (!first) qc_qlog_add(&b, ",");
        first = false;
        if (f.type >= QC_FT_STREAM && f.type <= 0x0f)
            qc_qlog_add(&b,
                        "{\"frame_type\":\"stream\",\"stream_id\":%llu,\"offset\":%llu,"
                        "\"length\":%llu%s}",
                        (unsigned long long)f.u.stream.stream_id,
                        (unsigned long long)f.u.stream.offset, (unsigned long long)f.u.stream.len,
                        f.u.stream.fin ? ",\"fin\":true" : "");
        else
            qc_qlog_frame_type(&b, qc_frame_name(f.type));
    }
    qc_qlog_add(&b, "]}");
    if (!b.full) emit(c, now, "quic:packet_received", &b);
}

void qc_conn_qlog_lost(qc_conn *c, enum qc_pn_space sp, const qc_sent_pkt *p, qc_ts now) {
    if (!c->cfg.qlog) return;
    enum qc_pkt_type t = sp == QC_PNS_INITIAL     ? QC_PT_INITIAL
                         : sp == QC_PNS_HANDSHAKE ? QC_PT_HANDSHAKE
                         : p->zero_rtt            ? QC_PT_0RTT
                                                  : QC_PT_1RTT;
    qc_qlog_buf b;
    qc_qlog_init(&b);
    qc_qlog_add(&b, "{\"header\":{\"packet_type\":\"%s\",\"packet_number\":%llu}}",
                qc_qlog_packet_type(t), (unsigned long long)p->pn);
    emit(c, now, "quic:packet_lost", &b);
}

void qc_conn_qlog_metrics(qc_conn *c, qc_ts now) {
    if (!c->cfg.qlog) return;
    qc_qlog_buf b;
    qc_qlog_init(&b);
    qc_qlog_add(&b,
                "{\"smoothed_rtt\":%.3f,\"min_rtt\":%.3f,\"latest_rtt\":%.3f,"
                "\"congestion_window\":%llu,\"bytes_in_flight\":%llu}",
                (double)c->rec.rtt.smoothed / 1e6, (double)c->rec.rtt.min / 1e6,
                (double)c->rec.rtt.latest / 1e6, (unsigned long long)c->rec.cc.cwnd,
                (unsigned long long)qc_recovery_in_flight(&c->rec));
    emit(c, now, "quic:recovery_metrics_updated", &b);
}

void qc_conn_qlog_key_updated(qc_conn *c, bool local, qc_ts now) {
    if (!c->cfg.qlog) return;
    qc_qlog_buf b;
    qc_qlog_init(&b);
    qc_qlog_add(&b, "{\"key_type\":\"%s_1rtt_secret\",\"key_phase\":%llu,\"trigger\":\"%s\"}",
                c->is_server != local ? "client" : "server", (unsigned long long)c->keys.updates,
                local ? "local_update" : "remote_update");
    emit(c, now, "quic:key_updated", &b);
}

void qc_conn_qlog_handshake(qc_conn *c, qc_ts now) {
    if (!c->cfg.qlog) return;
    qc_qlog_buf b;
    qc_qlog_init(&b);
    qc_qlog_add(&b, "{\"chosen_version\":\"%08x\"}", (unsigned)c->version);
    emit(c, now, "quic:version_information", &b);
    qc_qlog_init(&b);
    qc_qlog_add(&b, "{\"new\":\"handshake_complete\"}");
    emit(c, now, "quic:connection_state_updated", &b);
}

void qc_conn_qlog_closed(qc_conn *c, qc_ts now) {
    if (!c->cfg.qlog) return;
    const qc_close_info *ci = &c->close;
    qc_qlog_buf b;
    qc_qlog_init(&b);
    qc_qlog_add(&b, "{\"owner\":\"%s\",\"%s\":%llu,\"reason\":\"", ci->local ? "local" : "remote",
                ci->app ? "application_code" : "connection_code",
                (unsigned long long)ci->error_code);
    for (size_t i = 0; i < ci->reason_len; i++) {
        unsigned char ch = (unsigned char)ci->reason[i];
        if (ch < 0x20 || ch == '"' || ch == '\\' || ch > 0x7e)
            qc_qlog_add(&b, "\\u%04x", ch);
        else
            qc_qlog_add(&b, "%c", ch);
    }
    qc_qlog_add(&b, "\"}");
    emit(c, now, "quic:connection_closed", &b);
}
