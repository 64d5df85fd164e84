/*
 * qlog_api.c: qlog files (quicc_ctx_set_qlog_dir, QLOGDIR in the tools): one JSON-SEQ
 * file per connection, DIR/<original DCID>_<client|server>.sqlog, its header written
 * when the connection's engine is made, each engine event (core/qlog.h) appended as a
 * record with its time relative to the start.
 */
#include "api/api_internal.h"

#include <stdio.h>

struct qc_api_qlog {
    FILE *f;
    qc_ts t0;
};

static void sink(void *user, qc_ts now, const char *name, const char *data) {
    qc_api_qlog *q = user;
    double ms = now > q->t0 ? (double)(now - q->t0) / 1e6 : 0;
    fprintf(q->f, "\x1e{\"time\":%.3f,\"name\":\"%s\",\"data\":%s}\n", ms, name, data);
}

void qc_api_qlog_open(qc_api_conn *c, qc_conn_config *cfg, const qc_cid *odcid, bool server,
                      qc_ts now) {
    quicc_ctx *ctx = c->ctx;
    char path[4096], hex[2 * QC_MAX_CID_LEN + 1];
    for (size_t i = 0; i < odcid->len; i++)
        snprintf(hex + 2 * i, 3, "%02x", odcid->id[i]);
    hex[2 * odcid->len] = 0;
    pthread_mutex_lock(&ctx->lock);
    int n = ctx->qlog_dir ? snprintf(path, sizeof(path), "%s/%s_%s.sqlog", ctx->qlog_dir, hex,
                                     server ? "server" : "client")
                          : -1;
    pthread_mutex_unlock(&ctx->lock);
    if (n < 0 || (size_t)n >= sizeof(path)) return;
    qc_api_qlog *q = qc_calloc(1, sizeof(*q));
    if (!q || !(q->f = fopen(path, "w"))) {
        qc_free(q);
        return; /* no log: the connection goes on without one */
    }
    q->t0 = now;
    fprintf(
        q->f,
        "\x1e{\"file_schema\":\"urn:ietf:params:qlog:file:sequential\","
        "\"serialization_format\":\"application/qlog+json-seq\",\"title\":\"quicc\","
        "\"trace\":{\"common_fields\":{\"group_id\":\"%s\",\"time_format\":\"relative_to_start\"},"
        "\"vantage_point\":{\"name\":\"quicc\",\"type\":\"%s\"},"
        "\"event_schemas\":[\"urn:ietf:params:qlog:events:quic\"]}}\n",
        hex, server ? "server" : "client");
    c->qlog = q;
    cfg->qlog = sink;
    cfg->qlog_user = q;
}

void qc_api_qlog_close(qc_api_conn *c) {
    if (!c->qlog) return;
    fclose(c->qlog->f);
    qc_free(c->qlog);
    c->qlog = NULL;
}

int quicc_ctx_set_qlog_dir(quicc_ctx *ctx, const char *dir) {
    if (!ctx) return 0;
    char *copy = dir ? qc_strdup(dir) : NULL;
    if (dir && !copy) return 0;
    pthread_mutex_lock(&ctx->lock);
    qc_free(ctx->qlog_dir);
    ctx->qlog_dir = copy;
    pthread_mutex_unlock(&ctx->lock);
    return 1;
}
