/*
 * fuzz_client: the client's receive path facing a hostile server, from its
 * first Initial on: packets sealed under the server's keys of any epoch it
 * has, raw datagrams, loss, time steps and the client application's actions.
 * Packet protection is the null-crypto provider (tests/support/nullcrypto.h)
 * on both sides, so raw datagrams written by the fuzzer decrypt as well; the
 * TLS handshake is real. The script format is in tests/support/fuzzconn.h.
 */
#include "fuzz/fuzz.h"

#include "support/fuzzconn.h"
#include "support/nullcrypto.h"

static sim S;
static bool ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) {
        FZ_CHECK(sim_init(&S, 7, "hq-interop") == 0);
        S.ccfg.crypto = S.scfg.crypto = &qc_null_crypto;
        S.epcfg.cp = &qc_null_crypto;
        ready = true;
    }
    fzc_play(&S, false, data, size);
    return 0;
}
