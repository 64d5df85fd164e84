/* Unit tests for common.c: error names, texts and transport codes. */
#include "core/common.h"
#include "unit/test.h"

static void test_error_table(void) {
    CHECK(strcmp(qc_err_name(QC_ERR_FLOW_CONTROL), "QC_ERR_FLOW_CONTROL") == 0);
    CHECK(strcmp(qc_strerror(QC_ERR_NOBUF), "buffer too small") == 0);
    CHECK(strcmp(qc_err_name(0), "OK") == 0);
    CHECK(strcmp(qc_err_name(-9999), "QC_ERR_UNKNOWN") == 0);
    CHECK_U64(qc_err_transport(QC_ERR_FRAME_ENCODING), QC_TE_FRAME_ENCODING_ERROR);
    CHECK_U64(qc_err_transport(QC_ERR_FLOW_CONTROL), QC_TE_FLOW_CONTROL_ERROR);
    CHECK_U64(qc_err_transport(QC_ERR_STREAM_LIMIT), QC_TE_STREAM_LIMIT_ERROR);
    CHECK_U64(qc_err_transport(QC_ERR_STREAM_STATE), QC_TE_STREAM_STATE_ERROR);
    CHECK_U64(qc_err_transport(QC_ERR_FINAL_SIZE), QC_TE_FINAL_SIZE_ERROR);
    CHECK_U64(qc_err_transport(QC_ERR_PROTO), QC_TE_PROTOCOL_VIOLATION);
    CHECK_U64(qc_err_transport(QC_ERR_NOMEM), QC_TE_INTERNAL_ERROR);
    CHECK_U64(qc_err_transport(-9999), QC_TE_INTERNAL_ERROR);
}

static void test_transport_names(void) {
    CHECK(strcmp(qc_transport_error_name(0x3), "FLOW_CONTROL_ERROR") == 0);
    CHECK(strcmp(qc_transport_error_name(0x10), "NO_VIABLE_PATH") == 0);
    CHECK(strcmp(qc_transport_error_name(0x12a), "CRYPTO_ERROR") == 0);
    CHECK(strcmp(qc_tls_alert_name(0x178), "no_application_protocol") == 0);
    CHECK(strcmp(qc_tls_alert_name(0x12a), "bad_certificate") == 0);
    CHECK(strcmp(qc_tls_alert_name(0x1ff), "unknown alert") == 0);
    CHECK(qc_tls_alert_name(0x0a) == NULL);
    CHECK(qc_tls_alert_name(0x200) == NULL);
    CHECK(strcmp(qc_transport_error_name(0x200), "UNKNOWN_ERROR") == 0);
}

int main(void) {
    TEST_RUN(test_error_table);
    TEST_RUN(test_transport_names);
    return test_summary();
}
