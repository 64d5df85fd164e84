/*
 * fuzz_server_1rtt: a server after a real handshake, fed 1-RTT (and late
 * Handshake) packets sealed under the client's real keys, raw datagrams, time
 * steps and its own application's actions, while the honest client keeps
 * talking to it. The script format is in tests/support/fuzzconn.h.
 */
#include "fuzz/fuzz.h"

#include "support/fuzzconn.h"

static sim S;
static bool ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) {
        FZ_CHECK(sim_init(&S, 7, "hq-interop") == 0);
        ready = true;
    }
    fzc_play(&S, true, data, size);
    return 0;
}
