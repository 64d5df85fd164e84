/*
 * names.h: names the command-line tools print and parse: QUIC versions ("v1", "v2",
 * "v2draft") over the public QUICC_QUIC_VERSION_* numbers, ECN validation states, and
 * what --version prints.
 */
#ifndef QUICC_TOOLS_NAMES_H
#define QUICC_TOOLS_NAMES_H

#include <quicc.h>
#include <quicc_h3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    uint32_t number;
} tool_versions[] = {{"v1", QUICC_QUIC_VERSION_1},
                     {"v2", QUICC_QUIC_VERSION_2},
                     {"v2draft", QUICC_QUIC_VERSION_2_DRAFT}};

static inline const char *tool_version_name(uint32_t v) {
    for (size_t i = 0; i < sizeof(tool_versions) / sizeof(tool_versions[0]); i++)
        if (tool_versions[i].number == v) return tool_versions[i].name;
    return "?";
}

/* "v2,v1" -> numbers; returns how many (1..cap), or 0 for an unknown or repeated name. */
static inline size_t tool_parse_versions(const char *s, uint32_t *out, size_t cap) {
    size_t n = 0;
    while (*s) {
        size_t len = strcspn(s, ","), i = 0;
        while (i < sizeof(tool_versions) / sizeof(tool_versions[0]) &&
               !(strlen(tool_versions[i].name) == len && !strncmp(s, tool_versions[i].name, len)))
            i++;
        if (i == sizeof(tool_versions) / sizeof(tool_versions[0]) || n == cap) return 0;
        for (size_t j = 0; j < n; j++)
            if (out[j] == tool_versions[i].number) return 0;
        out[n++] = tool_versions[i].number;
        s += len;
        if (*s == ',' && !*++s) return 0;
    }
    return n;
}

/* QUICC_ECN_STATE_* as a word. */
static inline const char *tool_ecn_name(uint64_t state) {
    static const char *names[] = {"testing", "capable", "failed", "off"};
    return state < 4 ? names[state] : "?";
}

/* "ecn=capable ect0=N ce=N ce_reported=N": what ECN did on a connection. */
static inline void tool_ecn_summary(quicc *conn, char *buf, size_t len) {
    uint64_t st = 0, ect0 = 0, ce = 0, rep = 0;
    quicc_get_value_uint(conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_ECN_STATE, &st);
    quicc_get_value_uint(conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_ECN_ECT0_RECEIVED,
                         &ect0);
    quicc_get_value_uint(conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_ECN_CE_RECEIVED, &ce);
    quicc_get_value_uint(conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_ECN_CE_REPORTED, &rep);
    snprintf(buf, len, "ecn=%s ect0=%llu ce=%llu ce_reported=%llu", tool_ecn_name(st),
             (unsigned long long)ect0, (unsigned long long)ce, (unsigned long long)rep);
}

static inline uint64_t min_u64(uint64_t a, uint64_t b) {
    return a < b ? a : b;
}

/* --version, in curl's manner: the tool and the libraries it runs with, then what it speaks. */
static inline void tool_print_version(const char *prog) {
    printf("%s %s libquicc/%s GnuTLS/%s nghttp3/%s\n", prog, QUICC_VERSION_STRING,
           quicc_version(QUICC_VERSION_LIBRARY), quicc_version(QUICC_VERSION_GNUTLS),
           quicc_h3_version());
    printf("Protocols: h3 hq-interop http/1.0\nQUIC versions:");
    for (size_t i = 0; i < sizeof(tool_versions) / sizeof(tool_versions[0]); i++)
        printf(" %s", tool_versions[i].name);
    printf("\n");
}

#endif
