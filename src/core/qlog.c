/* qlog.c: building qlog event data (qlog.h). */
#include "core/qlog.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

void qc_qlog_init(qc_qlog_buf *b) {
    b->n = 0;
    b->s[0] = 0;
    b->full = false;
}

void qc_qlog_add(qc_qlog_buf *b, const char *fmt, ...) {
    if (b->full) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->n, sizeof(b->s) - b->n, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(b->s) - b->n - 16) { /* keep room to close brackets */
        b->s[b->n] = 0;
        b->full = true;
        return;
    }
    b->n += (size_t)n;
}

const char *qc_qlog_packet_type(enum qc_pkt_type t) {
    static const char *names[QC_PT_COUNT] = {
        [QC_PT_INITIAL] = "initial", [QC_PT_0RTT] = "0RTT", [QC_PT_HANDSHAKE] = "handshake",
        [QC_PT_RETRY] = "retry",     [QC_PT_1RTT] = "1RTT", [QC_PT_VN] = "version_negotiation"};
    return (unsigned)t < QC_PT_COUNT ? names[t] : "unknown";
}

void qc_qlog_frame_type(qc_qlog_buf *b, const char *wire_name) {
    char name[40];
    size_t i = 0;
    for (; wire_name[i] && i + 1 < sizeof(name); i++)
        name[i] = (char)tolower((unsigned char)wire_name[i]);
    name[i] = 0;
    qc_qlog_add(b, "{\"frame_type\":\"%s\"}", name);
}
