/*
 * nullcrypto.h: a crypto provider that does no cryptography, for fuzzing and
 * simulation (as ngtcp2's fuzzers do). Sealing leaves the plaintext as it is
 * and writes an all-zero tag; opening accepts exactly that tag; the header-
 * protection mask is zero; HKDF is a cheap deterministic mix. Two endpoints
 * that both use it interoperate, and a fuzzer can write packet payloads
 * directly: any change to the payload still "decrypts", any change to the tag
 * fails as a forged packet would.
 */
#ifndef QC_NULLCRYPTO_H
#define QC_NULLCRYPTO_H

#include "core/crypto.h"

extern const qc_crypto_provider qc_null_crypto;

#endif
