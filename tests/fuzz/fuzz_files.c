/*
 * fuzz_files: quicc_h3_file_lookup (src/h3/files.c), what the static file server answers.
 * The first byte picks the method (GET, HEAD, POST, or the next bytes up to a NUL); the rest
 * is the request target and, after a NUL, a Range value. Under a root made once per process
 * (a 10-byte file, a directory with index.html, a link to a file outside the root), every
 * answer must be one of the documented statuses; 200 and 206 come with an open file and a
 * byte range inside it (206 with its Content-Range), 416 with "bytes * /size"; and the file
 * outside the root is never served.
 */
#include "fuzz/fuzz.h"

#include "quicc_h3.h"

#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64], outside[64];
static ino_t outside_ino;

static void cleanup(void) {
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, outside);
    if (system(cmd) != 0) fprintf(stderr, "fuzz_files: cleanup failed\n");
}

static void put(const char *dir, const char *name, const char *data) {
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    FZ_CHECK(f != NULL);
    fputs(data, f);
    fclose(f);
}

static void setup(void) {
    snprintf(root, sizeof(root), "/tmp/quicc-fuzz-files-XXXXXX");
    snprintf(outside, sizeof(outside), "/tmp/quicc-fuzz-out-XXXXXX");
    FZ_CHECK(mkdtemp(root) && mkdtemp(outside));
    atexit(cleanup);
    put(root, "a.txt", "0123456789");
    char p[256], q[256];
    snprintf(p, sizeof(p), "%s/sub", root);
    FZ_CHECK(mkdir(p, 0755) == 0);
    put(p, "index.html", "index");
    put(outside, "secret", "secret");
    snprintf(p, sizeof(p), "%s/secret", outside);
    snprintf(q, sizeof(q), "%s/out", root);
    FZ_CHECK(symlink(p, q) == 0);
    struct stat st;
    FZ_CHECK(stat(p, &st) == 0);
    outside_ino = st.st_ino;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!root[0]) setup();
    if (size == 0 || size > 4096) return 0;
    static const char *const methods[] = {"GET", "HEAD", "POST"};
    char buf[4100];
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = 0;
    char *p = buf;
    const char *method;
    if (data[0] % 4 < 3) {
        method = methods[data[0] % 4];
    } else {
        method = p;
        p += strlen(p) + (p < buf + size - 1 ? 1 : 0);
    }
    const char *target = p;
    size_t tl = strlen(target);
    const char *range = target + tl < buf + size - 1 ? target + tl + 1 : NULL;
    quicc_file_reply r;
    FZ_CHECK(quicc_h3_file_lookup(root, method, target, range, 0, &r) == 1);
    switch (r.status) {
    case 200:
    case 206: {
        FZ_CHECK(r.fd >= 0);
        struct stat st;
        FZ_CHECK(fstat(r.fd, &st) == 0 && S_ISREG(st.st_mode));
        FZ_CHECK(st.st_ino != outside_ino); /* never the file outside the root */
        FZ_CHECK((uint64_t)st.st_size == r.size);
        FZ_CHECK(r.offset <= r.size && r.length <= r.size - r.offset);
        if (r.status == 200) {
            FZ_CHECK(r.offset == 0 && r.length == r.size && !r.content_range[0]);
        } else {
            char want[80];
            FZ_CHECK(r.length > 0);
            snprintf(want, sizeof(want), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, r.offset,
                     r.offset + r.length - 1, r.size);
            FZ_CHECK(!strcmp(want, r.content_range));
        }
        FZ_CHECK(r.content_type != NULL && r.last_modified[0]);
        close(r.fd);
        break;
    }
    case 416:
        FZ_CHECK(r.fd < 0 && !strncmp(r.content_range, "bytes */", 8));
        break;
    case 400:
    case 403:
    case 404:
    case 405:
    case 500:
        FZ_CHECK(r.fd < 0 && r.length == 0);
        break;
    default:
        FZ_CHECK(!"unexpected status");
    }
    FZ_CHECK(r.head == !strcmp(method, "HEAD") || r.status == 405 || r.status == 400);
    return 0;
}
