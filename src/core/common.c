/* common.c: error names and texts generated from QC_ERRORS. */
#include "core/common.h"

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
                                        "NO_VIABLE_PATH"};
    if (code < QC_ARRAY_LEN(names)) return names[code];
    if (code >= 0x100 && code <= 0x1ff) return "CRYPTO_ERROR";
    return "UNKNOWN_ERROR";
}
