/* nullcrypto.c: the provider that does no cryptography (see nullcrypto.h). */
#include "support/nullcrypto.h"

#include <string.h>

static int handle; /* what keys_init stores: a non-NULL marker, no state */

static void mix(uint8_t *out, size_t out_len, const uint8_t *a, size_t a_len, const uint8_t *b,
                size_t b_len) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < a_len; i++)
        h = (h ^ a[i]) * 0x100000001b3ull;
    for (size_t i = 0; i < b_len; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    for (size_t i = 0; i < out_len; i++) {
        h = (h ^ i) * 0x100000001b3ull;
        out[i] = (uint8_t)(h >> 56);
    }
}

static int n_extract(enum qc_suite suite, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                     size_t ikm_len, uint8_t *prk) {
    mix(prk, qc_suite_secret_len(suite), salt, salt_len, ikm, ikm_len);
    return 0;
}

static int n_expand(enum qc_suite suite, const uint8_t *secret, size_t secret_len,
                    const char *label, uint8_t *out, size_t out_len) {
    (void)suite;
    mix(out, out_len, secret, secret_len, (const uint8_t *)label, strlen(label));
    return 0;
}

static int n_keys_init(qc_keys *k, const uint8_t *key, const uint8_t *hp_key) {
    (void)key;
    k->aead = &handle;
    if (hp_key) k->hp = &handle;
    return 0;
}

static void n_keys_free(qc_keys *k) {
    k->aead = NULL;
    k->hp = NULL;
}

static void *n_hp_ref(void *hp) {
    return hp;
}

static int n_seal(qc_keys *k, const uint8_t *nonce, const uint8_t *ad, size_t ad_len, uint8_t *data,
                  size_t len) {
    (void)k, (void)nonce, (void)ad, (void)ad_len;
    memset(data + len, 0, QC_AEAD_TAG_LEN);
    return 0;
}

static int n_open(qc_keys *k, const uint8_t *nonce, const uint8_t *ad, size_t ad_len, uint8_t *data,
                  size_t len) {
    (void)k, (void)nonce, (void)ad, (void)ad_len;
    if (len < QC_AEAD_TAG_LEN) return QC_ERR_DECRYPT;
    for (size_t i = len - QC_AEAD_TAG_LEN; i < len; i++)
        if (data[i]) return QC_ERR_DECRYPT;
    return 0;
}

static int n_hp_mask(qc_keys *k, const uint8_t *sample, uint8_t *mask) {
    (void)k, (void)sample;
    memset(mask, 0, 5);
    return 0;
}

static int n_tag(const uint8_t *key, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
                 uint8_t *tag) {
    (void)key, (void)nonce, (void)ad, (void)ad_len;
    memset(tag, 0, 16);
    return 0;
}

const qc_crypto_provider qc_null_crypto = {
    .hkdf_extract = n_extract,
    .hkdf_expand_label = n_expand,
    .keys_init = n_keys_init,
    .keys_free = n_keys_free,
    .hp_ref = n_hp_ref,
    .seal = n_seal,
    .open = n_open,
    .hp_mask = n_hp_mask,
    .aes128gcm_tag = n_tag,
};
