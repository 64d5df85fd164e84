/* common.c: error names and texts generated from QC_ERRORS; the allocator hook. */
#include "core/common.h"

#include <stdatomic.h>
#include <stdlib.h>

static qc_allocator alloc_hook; /* all NULL: libc */
static _Atomic bool allocated;

int qc_set_allocator(const qc_allocator *a) {
    if (!a) {
        memset(&alloc_hook, 0, sizeof(alloc_hook));
        return 0;
    }
    if (!a->malloc_fn || !a->realloc_fn || !a->free_fn) return QC_ERR_INVAL;
    alloc_hook = *a;
    return 0;
}

bool qc_allocated_yet(void) {
    return atomic_load_explicit(&allocated, memory_order_relaxed);
}

void *qc_malloc_at(size_t size, const char *file, int line) {
    if (!atomic_load_explicit(&allocated, memory_order_relaxed))
        atomic_store_explicit(&allocated, true, memory_order_relaxed);
    return alloc_hook.malloc_fn ? alloc_hook.malloc_fn(size, file, line) : malloc(size);
}

void *qc_calloc_at(size_t n, size_t size, const char *file, int line) {
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = qc_malloc_at(n * size, file, line);
    if (p) memset(p, 0, n * size);
    return p;
}

void *qc_realloc_at(void *p, size_t size, const char *file, int line) {
    if (!p) return qc_malloc_at(size, file, line);
    return alloc_hook.realloc_fn ? alloc_hook.realloc_fn(p, size, file, line) : realloc(p, size);
}

void qc_free_at(void *p, const char *file, int line) {
    if (!p) return;
    if (alloc_hook.free_fn)
        alloc_hook.free_fn(p, file, line);
    else
        free(p);
}

char *qc_strndup_at(const char *s, size_t n, const char *file, int line) {
    if (!s) return NULL;
    size_t len = strnlen(s, n);
    char *d = qc_malloc_at(len + 1, file, line);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = 0;
    return d;
}

const char *qc_err_name(int err) {
    switch (err) {
    case 0:
        return "OK";
#define QC_ERR_NAME(name, val, text, te)                                                           \
    case val:                                                                                      \
        return #name;
        QC_ERRORS(QC_ERR_NAME)
#undef QC_ERR_NAME
    }
    return "QC_ERR_UNKNOWN";
}

const char *qc_strerror(int err) {
    switch (err) {
    case 0:
        return "success";
#define QC_ERR_TEXT(name, val, text, te)                                                           \
    case val:                                                                                      \
        return text;
        QC_ERRORS(QC_ERR_TEXT)
#undef QC_ERR_TEXT
    }
    return "unknown error";
}

uint64_t qc_err_transport(int err) {
    switch (err) {
#define QC_ERR_TE(name, val, text, te)                                                             \
    case val:                                                                                      \
        return te;
        QC_ERRORS(QC_ERR_TE)
#undef QC_ERR_TE
    }
    return QC_TE_INTERNAL_ERROR;
}

const char *qc_tls_alert_name(uint64_t code) {
    static const struct {
        uint8_t alert;
        const char *name;
    } alerts[] = {{10, "unexpected_message"},
                  {20, "bad_record_mac"},
                  {22, "record_overflow"},
                  {40, "handshake_failure"},
                  {42, "bad_certificate"},
                  {43, "unsupported_certificate"},
                  {44, "certificate_revoked"},
                  {45, "certificate_expired"},
                  {46, "certificate_unknown"},
                  {47, "illegal_parameter"},
                  {48, "unknown_ca"},
                  {49, "access_denied"},
                  {50, "decode_error"},
                  {51, "decrypt_error"},
                  {70, "protocol_version"},
                  {71, "insufficient_security"},
                  {80, "internal_error"},
                  {86, "inappropriate_fallback"},
                  {109, "missing_extension"},
                  {110, "unsupported_extension"},
                  {112, "unrecognized_name"},
                  {113, "bad_certificate_status_response"},
                  {115, "unknown_psk_identity"},
                  {116, "certificate_required"},
                  {120, "no_application_protocol"}};
    if (code < 0x100 || code > 0x1ff) return NULL;
    for (size_t i = 0; i < QC_ARRAY_LEN(alerts); i++)
        if (alerts[i].alert == code - 0x100) return alerts[i].name;
    return "unknown alert";
}

const char *qc_transport_error_name(uint64_t code) {
    static const char *const names[] = {"NO_ERROR",
                                        "INTERNAL_ERROR",
                                        "CONNECTION_REFUSED",
                                        "FLOW_CONTROL_ERROR",
                                        "STREAM_LIMIT_ERROR",
                                        "STREAM_STATE_ERROR",
                                        "FINAL_SIZE_ERROR",
                                        "FRAME_ENCODING_ERROR",
                                        "TRANSPORT_PARAMETER_ERROR",
                                        "CONNECTION_ID_LIMIT_ERROR",
                                        "PROTOCOL_VIOLATION",
                                        "INVALID_TOKEN",
                                        "APPLICATION_ERROR",
                                        "CRYPTO_BUFFER_EXCEEDED",
                                        "KEY_UPDATE_ERROR",
                                        "AEAD_LIMIT_REACHED",
                                        "NO_VIABLE_PATH",
                                        "VERSION_NEGOTIATION_ERROR"};
    if (code < QC_ARRAY_LEN(names)) return names[code];
    if (code >= 0x100 && code <= 0x1ff) return "CRYPTO_ERROR";
    return "UNKNOWN_ERROR";
}
