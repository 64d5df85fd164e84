/*
 * quicc_h3_file_lookup: statuses (200, 206, 400, 403, 404, 405, 416), byte ranges and their
 * Content-Range, HEAD, percent-decoding, index.html, confinement to the root (dot segments,
 * symbolic links out of it), Content-Type and Last-Modified; the open file holds the bytes.
 */
#include "quicc_h3.h"
#include "unit/test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char root[64], outside[64];

static void put(const char *dir, const char *name, const char *data) {
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(data, f);
        fclose(f);
    }
}

/* Looks up and checks status, offset and length; the file's bytes there equal want. */
static void expect(const char *method, const char *target, const char *range, unsigned flags,
                   int status, uint64_t off, uint64_t len, const char *want) {
    quicc_file_reply r;
    CHECK_EQ(quicc_h3_file_lookup(root, method, target, range, flags, &r), 1);
    CHECK_EQ(r.status, status);
    if (r.status != status)
        fprintf(stderr, "  %s %s range %s\n", method, target, range ? range : "-");
    if (status == 200 || status == 206) {
        CHECK(r.fd >= 0);
        CHECK_U64(r.offset, off);
        CHECK_U64(r.length, len);
        char buf[256] = "";
        if (r.fd >= 0 && len < sizeof(buf)) {
            ssize_t n = pread(r.fd, buf, len, (off_t)off);
            CHECK_EQ(n, (ssize_t)len);
            buf[len] = 0;
            CHECK_STR(buf, want);
        }
    } else {
        CHECK_EQ(r.fd, -1);
        CHECK_U64(r.length, 0);
    }
    if (r.fd >= 0) close(r.fd);
}

static void test_statuses(void) {
    expect("GET", "/a.txt", NULL, 0, 200, 0, 10, "0123456789");
    expect("GET", "/a.txt?x=1#f", NULL, 0, 200, 0, 10, "0123456789");
    expect("GET", "/nope", NULL, 0, 404, 0, 0, NULL);
    expect("GET", "/sub/", NULL, 0, 200, 0, 5, "index");
    expect("GET", "/sub", NULL, 0, 200, 0, 5, "index");
    expect("GET", "/empty/", NULL, 0, 404, 0, 0, NULL); /* a directory without index.html */
    expect("GET", "/with%20space.html", NULL, 0, 200, 0, 2, "sp");
    expect("GET", "/%61.txt", NULL, 0, 200, 0, 10, "0123456789");
    expect("GET", "/%zz", NULL, 0, 400, 0, 0, NULL);
    expect("GET", "/a%", NULL, 0, 400, 0, 0, NULL);
    expect("GET", "/a%00b", NULL, 0, 400, 0, 0, NULL);
    expect("GET", "/../secret", NULL, 0, 400, 0, 0, NULL);
    expect("GET", "/sub/../a.txt", NULL, 0, 400, 0, 0, NULL);
    expect("GET", "/%2e%2e/secret", NULL, 0, 400, 0, 0, NULL);
    expect("GET", "/./a.txt", NULL, 0, 400, 0, 0, NULL);
    expect("GET", "a.txt", NULL, 0, 400, 0, 0, NULL);
    expect("POST", "/a.txt", NULL, 0, 405, 0, 0, NULL);
    expect("DELETE", "/a.txt", NULL, 0, 405, 0, 0, NULL);
    /* A link out of the root is refused unless links are followed; one inside is fine. */
    expect("GET", "/out", NULL, 0, 403, 0, 0, NULL);
    expect("GET", "/out", NULL, QUICC_H3_FILE_FOLLOW_SYMLINKS, 200, 0, 6, "secret");
    expect("GET", "/in", NULL, 0, 200, 0, 10, "0123456789");
    if (geteuid() != 0) /* root reads every file: the 403 of an unreadable one needs a user */
        expect("GET", "/locked", NULL, 0, 403, 0, 0, NULL);
    quicc_file_reply r;
    CHECK_EQ(quicc_h3_file_lookup(NULL, "GET", "/a.txt", NULL, 0, &r), 0);
    CHECK_EQ(r.status, 500);
}

static void test_ranges(void) {
    expect("GET", "/a.txt", "bytes=2-4", 0, 206, 2, 3, "234");
    expect("GET", "/a.txt", "bytes=7-", 0, 206, 7, 3, "789");
    expect("GET", "/a.txt", "bytes=-3", 0, 206, 7, 3, "789");
    expect("GET", "/a.txt", "bytes=-30", 0, 206, 0, 10, "0123456789");
    expect("GET", "/a.txt", "bytes=5-100", 0, 206, 5, 5, "56789");
    expect("GET", "/a.txt", "bytes=10-", 0, 416, 0, 0, NULL);
    expect("GET", "/a.txt", "bytes=-0", 0, 416, 0, 0, NULL);
    expect("GET", "/a.txt", "bytes=0-1,4-5", 0, 200, 0, 10, "0123456789"); /* several: whole */
    expect("GET", "/a.txt", "bytes=4-2", 0, 200, 0, 10, "0123456789");     /* malformed */
    expect("GET", "/a.txt", "items=1-2", 0, 200, 0, 10, "0123456789");
    expect("GET", "/a.txt", "bytes=x-", 0, 200, 0, 10, "0123456789");
    quicc_file_reply r;
    quicc_h3_file_lookup(root, "GET", "/a.txt", "bytes=2-4", 0, &r);
    CHECK_STR(r.content_range, "bytes 2-4/10");
    CHECK_U64(r.size, 10);
    close(r.fd);
    quicc_h3_file_lookup(root, "GET", "/a.txt", "bytes=20-", 0, &r);
    CHECK_STR(r.content_range, "bytes */10");
    quicc_h3_file_lookup(root, "GET", "/a.txt", NULL, 0, &r);
    CHECK_STR(r.content_range, "");
    close(r.fd);
}

static void test_head_and_headers(void) {
    quicc_file_reply r;
    CHECK_EQ(quicc_h3_file_lookup(root, "HEAD", "/with%20space.html", NULL, 0, &r), 1);
    CHECK_EQ(r.status, 200);
    CHECK_EQ(r.head, 1);
    CHECK_U64(r.length, 2);
    CHECK_STR(r.content_type, "text/html; charset=utf-8");
    /* Last-Modified: the file's mtime, set to 2026-01-02 03:04:05 UTC below. */
    CHECK_STR(r.last_modified, "Fri, 02 Jan 2026 03:04:05 GMT");
    close(r.fd);
    CHECK_EQ(quicc_h3_file_lookup(root, "GET", "/a.txt", NULL, 0, &r), 1);
    CHECK_EQ(r.head, 0);
    CHECK_STR(r.content_type, "text/plain; charset=utf-8");
    close(r.fd);
    CHECK_STR(quicc_h3_content_type("x.PNG"), "image/png");
    CHECK_STR(quicc_h3_content_type("dir.d/noext"), "application/octet-stream");
    CHECK_STR(quicc_h3_content_type("a.tar.gz"), "application/gzip");
    CHECK_STR(quicc_h3_content_type("x.wasm"), "application/wasm");
    CHECK_STR(quicc_h3_status_text(206), "Partial Content");
    CHECK_STR(quicc_h3_status_text(416), "Range Not Satisfiable");
    CHECK_STR(quicc_h3_status_text(405), "Method Not Allowed");
}

int main(void) {
    snprintf(root, sizeof(root), "/tmp/quicc-files-XXXXXX");
    snprintf(outside, sizeof(outside), "/tmp/quicc-files-out-XXXXXX");
    if (!mkdtemp(root) || !mkdtemp(outside)) return 1;
    char p[256], q[256];
    put(root, "a.txt", "0123456789");
    put(root, "with space.html", "sp");
    snprintf(p, sizeof(p), "%s/sub", root);
    mkdir(p, 0755);
    put(p, "index.html", "index");
    snprintf(p, sizeof(p), "%s/empty", root);
    mkdir(p, 0755);
    put(outside, "secret", "secret");
    snprintf(p, sizeof(p), "%s/secret", outside);
    snprintf(q, sizeof(q), "%s/out", root);
    if (symlink(p, q) != 0) return 1;
    snprintf(q, sizeof(q), "%s/in", root);
    if (symlink("a.txt", q) != 0) return 1;
    put(root, "locked", "x");
    snprintf(p, sizeof(p), "%s/locked", root);
    chmod(p, 0);
    snprintf(p, sizeof(p), "%s/with space.html", root);
    struct timespec ts[2] = {{1767323045, 0}, {1767323045, 0}}; /* 2026-01-02 03:04:05 UTC */
    utimensat(AT_FDCWD, p, ts, 0);
    TEST_RUN(test_statuses);
    TEST_RUN(test_ranges);
    TEST_RUN(test_head_and_headers);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, outside);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    return test_summary();
}
