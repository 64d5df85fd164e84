/*
 * path.c: path validation (RFC 9000 §8.2). The state moves only in these functions:
 * NONE or any state -> VALIDATING (start), VALIDATING -> VALIDATED (response),
 * VALIDATING -> FAILED (timeout), VALIDATING -> NONE (abandon).
 */
#include "core/path.h"

#include <assert.h>

void qc_path_validation_start(qc_path_validation *v, const uint8_t rnd[8], qc_ts now,
                              qc_ts timeout) {
    v->state = QC_PATH_VALIDATING;
    memcpy(v->challenge, rnd, 8);
    v->has_previous = false;
    v->challenge_pending = true;
    v->deadline = now + timeout;
    v->next_challenge = QC_TS_NONE;
    v->challenges = 0;
}

void qc_path_validation_sent(qc_path_validation *v, qc_ts now, qc_ts pto) {
    assert(v->state == QC_PATH_VALIDATING);
    v->challenge_pending = false;
    v->challenges++;
    v->next_challenge = now + pto;
}

bool qc_path_validation_response(qc_path_validation *v, const uint8_t data[8]) {
    if (v->state != QC_PATH_VALIDATING) return false;
    if (memcmp(v->challenge, data, 8) != 0 && !(v->has_previous && !memcmp(v->previous, data, 8)))
        return false;
    v->state = QC_PATH_VALIDATED;
    v->challenge_pending = false;
    v->deadline = v->next_challenge = QC_TS_NONE;
    return true;
}

bool qc_path_validation_timeout(qc_path_validation *v, const uint8_t rnd[8], qc_ts now) {
    if (v->state != QC_PATH_VALIDATING) return false;
    if (now >= v->deadline) {
        v->state = QC_PATH_FAILED;
        v->challenge_pending = false;
        v->deadline = v->next_challenge = QC_TS_NONE;
        return true;
    }
    if (v->next_challenge != QC_TS_NONE && now >= v->next_challenge && !v->challenge_pending) {
        /* A new challenge, with new data (each PATH_CHALLENGE is unpredictable, RFC 9000
         * §8.2.1); a late answer to the one before still counts. */
        if (v->challenges) {
            memcpy(v->previous, v->challenge, 8);
            v->has_previous = true;
        }
        memcpy(v->challenge, rnd, 8);
        v->challenge_pending = true;
        v->next_challenge = QC_TS_NONE;
    }
    return false;
}

void qc_path_validation_abandon(qc_path_validation *v) {
    if (v->state != QC_PATH_VALIDATING) return;
    v->state = QC_PATH_NONE;
    v->challenge_pending = false;
    v->deadline = v->next_challenge = QC_TS_NONE;
}

qc_ts qc_path_validation_timer(const qc_path_validation *v) {
    if (v->state != QC_PATH_VALIDATING) return QC_TS_NONE;
    return QC_MIN(v->deadline, v->next_challenge);
}
