/*
 * versions.h: QUIC version names for the command-line tools ("v1", "v2", "v2draft"), over
 * the public QUICC_QUIC_VERSION_* numbers.
 */
#ifndef QUICC_TOOLS_VERSIONS_H
#define QUICC_TOOLS_VERSIONS_H

#include <quicc.h>
#include <stdint.h>
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

#endif
