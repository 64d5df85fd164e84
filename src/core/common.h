/*
 * common.h: types, constants and error codes shared by every layer of quicc.
 *
 * Time is a uint64_t count of nanoseconds on a monotonic clock chosen by the
 * caller; QC_TS_NONE (UINT64_MAX) means "unset" or "never". The core never
 * reads a clock or draws random numbers itself: both come in as arguments.
 */
#ifndef QC_COMMON_H
#define QC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint64_t qc_ts;
#define QC_TS_NONE UINT64_MAX
#define QC_US 1000ull
#define QC_MS 1000000ull
#define QC_SEC 1000000000ull

#define QC_VERSION_1 0x00000001u
#define QC_MAX_CID_LEN 20
#define QC_RESET_TOKEN_LEN 16
#define QC_MIN_INITIAL_SIZE 1200
#define QC_MAX_VARINT ((1ull << 62) - 1)

/* A connection ID of 0 to 20 bytes. */
typedef struct qc_cid {
    uint8_t len;
    uint8_t id[QC_MAX_CID_LEN];
} qc_cid;

static inline bool qc_cid_eq(const qc_cid *a, const qc_cid *b) {
    return a->len == b->len && memcmp(a->id, b->id, a->len) == 0;
}

/* Encryption levels (RFC 9001 §4); also indexes of per-level arrays. */
enum qc_epoch {
    QC_EPOCH_INITIAL = 0,
    QC_EPOCH_0RTT = 1,
    QC_EPOCH_HANDSHAKE = 2,
    QC_EPOCH_1RTT = 3,
    QC_EPOCH_COUNT = 4
};

/* Packet number spaces (RFC 9000 §12.3). 0-RTT and 1-RTT share APP. */
enum qc_pn_space { QC_PNS_INITIAL = 0, QC_PNS_HANDSHAKE = 1, QC_PNS_APP = 2, QC_PNS_COUNT = 3 };

/* Randomness source: fills buf with len unpredictable bytes. */
typedef void (*qc_rand_fn)(void *user, uint8_t *buf, size_t len);

/* A closed range [lo, hi] of packet numbers or byte offsets. */
typedef struct qc_range {
    uint64_t lo, hi;
} qc_range;

/* Transport error codes of RFC 9000 §20.1. CRYPTO_ERROR is 0x100 + alert. */
enum qc_transport_error {
    QC_TE_NO_ERROR = 0x0,
    QC_TE_INTERNAL_ERROR = 0x1,
    QC_TE_CONNECTION_REFUSED = 0x2,
    QC_TE_FLOW_CONTROL_ERROR = 0x3,
    QC_TE_STREAM_LIMIT_ERROR = 0x4,
    QC_TE_STREAM_STATE_ERROR = 0x5,
    QC_TE_FINAL_SIZE_ERROR = 0x6,
    QC_TE_FRAME_ENCODING_ERROR = 0x7,
    QC_TE_TRANSPORT_PARAMETER_ERROR = 0x8,
    QC_TE_CONNECTION_ID_LIMIT_ERROR = 0x9,
    QC_TE_PROTOCOL_VIOLATION = 0xa,
    QC_TE_INVALID_TOKEN = 0xb,
    QC_TE_APPLICATION_ERROR = 0xc,
    QC_TE_CRYPTO_BUFFER_EXCEEDED = 0xd,
    QC_TE_KEY_UPDATE_ERROR = 0xe,
    QC_TE_AEAD_LIMIT_REACHED = 0xf,
    QC_TE_NO_VIABLE_PATH = 0x10,
    QC_TE_VERSION_NEGOTIATION_ERROR = 0x11, /* RFC 9368 §10.2 */
    QC_TE_CRYPTO_ERROR = 0x100
};

/*
 * Library error codes: 0 is success, errors are negative. Codes that stand
 * for a peer's protocol error map to the transport error code the
 * connection closes with (qc_err_transport()); the others map to
 * INTERNAL_ERROR. One list generates the enum, the names and the texts.
 */
#define QC_ERRORS(X)                                                                               \
    X(QC_ERR_NOBUF, -1, "buffer too small", QC_TE_INTERNAL_ERROR)                                  \
    X(QC_ERR_NOMEM, -2, "out of memory", QC_TE_INTERNAL_ERROR)                                     \
    X(QC_ERR_INVAL, -3, "invalid argument", QC_TE_INTERNAL_ERROR)                                  \
    X(QC_ERR_FRAME_ENCODING, -4, "malformed frame", QC_TE_FRAME_ENCODING_ERROR)                    \
    X(QC_ERR_PROTO, -5, "protocol violation", QC_TE_PROTOCOL_VIOLATION)                            \
    X(QC_ERR_FLOW_CONTROL, -6, "flow control limit exceeded", QC_TE_FLOW_CONTROL_ERROR)            \
    X(QC_ERR_STREAM_LIMIT, -7, "stream limit exceeded", QC_TE_STREAM_LIMIT_ERROR)                  \
    X(QC_ERR_STREAM_STATE, -8, "frame invalid in stream state", QC_TE_STREAM_STATE_ERROR)          \
    X(QC_ERR_FINAL_SIZE, -9, "final size changed or exceeded", QC_TE_FINAL_SIZE_ERROR)             \
    X(QC_ERR_TPARAM, -10, "invalid transport parameters", QC_TE_TRANSPORT_PARAMETER_ERROR)         \
    X(QC_ERR_CID_LIMIT, -11, "connection ID limit exceeded", QC_TE_CONNECTION_ID_LIMIT_ERROR)      \
    X(QC_ERR_CRYPTO_BUFFER, -12, "crypto buffer exceeded", QC_TE_CRYPTO_BUFFER_EXCEEDED)           \
    X(QC_ERR_KEY_UPDATE, -13, "key update error", QC_TE_KEY_UPDATE_ERROR)                          \
    X(QC_ERR_TLS, -14, "TLS handshake failed", QC_TE_CRYPTO_ERROR)                                 \
    X(QC_ERR_DECRYPT, -15, "packet decryption failed", QC_TE_INTERNAL_ERROR)                       \
    X(QC_ERR_DECODE, -16, "malformed packet", QC_TE_INTERNAL_ERROR)                                \
    X(QC_ERR_DROP, -17, "packet dropped", QC_TE_INTERNAL_ERROR)                                    \
    X(QC_ERR_CLOSED, -18, "connection closed", QC_TE_INTERNAL_ERROR)                               \
    X(QC_ERR_AGAIN, -19, "operation would block", QC_TE_INTERNAL_ERROR)                            \
    X(QC_ERR_INVALID_TOKEN, -20, "invalid token", QC_TE_INVALID_TOKEN)                             \
    X(QC_ERR_VERSION, -21, "unsupported version", QC_TE_INTERNAL_ERROR)                            \
    X(QC_ERR_INTERNAL, -22, "internal error", QC_TE_INTERNAL_ERROR)                                \
    X(QC_ERR_CRYPTO, -23, "cryptographic primitive failed", QC_TE_INTERNAL_ERROR)                  \
    X(QC_ERR_STREAM_NOT_FOUND, -24, "no such stream", QC_TE_INTERNAL_ERROR)                        \
    X(QC_ERR_IDLE_TIMEOUT, -25, "idle timeout", QC_TE_NO_ERROR)                                    \
    X(QC_ERR_STATELESS_RESET, -26, "stateless reset received", QC_TE_NO_ERROR)                     \
    X(QC_ERR_VERIFY, -27, "certificate verification failed", QC_TE_CRYPTO_ERROR)                   \
    X(QC_ERR_CONNECTION_REFUSED, -28, "connection refused", QC_TE_CONNECTION_REFUSED)              \
    X(QC_ERR_HANDSHAKE_TIMEOUT, -29, "handshake timeout", QC_TE_NO_ERROR)                          \
    X(QC_ERR_AEAD_LIMIT, -30, "AEAD usage limit reached", QC_TE_AEAD_LIMIT_REACHED)                \
    X(QC_ERR_RECV_PIECES, -31, "stream data in too many pieces", QC_TE_PROTOCOL_VIOLATION)         \
    X(QC_ERR_VERSION_NEGOTIATION, -32, "version negotiation failed",                               \
      QC_TE_VERSION_NEGOTIATION_ERROR)

enum qc_err {
#define QC_ERR_ENUM(name, val, text, te) name = val,
    QC_ERRORS(QC_ERR_ENUM)
#undef QC_ERR_ENUM
};

/* Name ("QC_ERR_NOBUF") and text of a library error code. */
const char *qc_err_name(int err);
const char *qc_strerror(int err);
/* Transport error code a connection closes with when err is a peer error. */
uint64_t qc_err_transport(int err);
/* Name of a transport error code ("FLOW_CONTROL_ERROR", "CRYPTO_ERROR"). */
const char *qc_transport_error_name(uint64_t code);
/* The TLS alert (RFC 8446 §6) a CRYPTO_ERROR code 0x100 + alert carries, by its name
 * ("no_application_protocol"); NULL for a code that is no CRYPTO_ERROR. */
const char *qc_tls_alert_name(uint64_t code);

#define QC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define QC_MAX(a, b) ((a) > (b) ? (a) : (b))
#define QC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Memory. Every allocation of the library goes through these, so that an application can
 * supply its own allocator (quicc_set_mem_functions, OpenSSL's CRYPTO_set_mem_functions
 * shape: each call carries the allocating file and line) and tests can fail any one
 * allocation. The hook is process-wide; NULL members fall back to libc. qc_free(NULL) does
 * nothing; qc_calloc checks n * size for overflow.
 */
typedef struct qc_allocator {
    void *(*malloc_fn)(size_t size, const char *file, int line);
    void *(*realloc_fn)(void *p, size_t size, const char *file, int line);
    void (*free_fn)(void *p, const char *file, int line);
} qc_allocator;
/* Installs a (NULL: restores libc's). Returns 0, or QC_ERR_INVAL when only some of the
 * three are set. */
int qc_set_allocator(const qc_allocator *a);
/* Whether anything was allocated yet (the public setter refuses after that). */
bool qc_allocated_yet(void);
void *qc_malloc_at(size_t size, const char *file, int line);
void *qc_calloc_at(size_t n, size_t size, const char *file, int line);
void *qc_realloc_at(void *p, size_t size, const char *file, int line);
void qc_free_at(void *p, const char *file, int line);
char *qc_strndup_at(const char *s, size_t n, const char *file, int line);
#define qc_malloc(size) qc_malloc_at((size), __FILE__, __LINE__)
#define qc_calloc(n, size) qc_calloc_at((n), (size), __FILE__, __LINE__)
#define qc_realloc(p, size) qc_realloc_at((p), (size), __FILE__, __LINE__)
#define qc_free(p) qc_free_at((p), __FILE__, __LINE__)
/* Copies of a string (all of it / at most n bytes) with qc_malloc; NULL for NULL. */
#define qc_strdup(s) qc_strndup_at((s), SIZE_MAX, __FILE__, __LINE__)
#define qc_strndup(s, n) qc_strndup_at((s), (n), __FILE__, __LINE__)

#endif
