/*
 * crypto_gnutls.c: the crypto provider (core/crypto.h) on GnuTLS: HKDF,
 * in-place AEAD (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305) and header
 * protection (AES-ECB as one CBC block with a zero IV; raw ChaCha20).
 * Handles are created once per key; nothing is allocated per packet.
 */
#include "tls/tls.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

/* A header-protection handle, shared by the key generations of one epoch. */
typedef struct hp_handle {
    gnutls_cipher_hd_t h;
    bool chacha;
    int refs;
} hp_handle;

static gnutls_mac_algorithm_t suite_mac(enum qc_suite s) {
    return s == QC_SUITE_AES_256_GCM_SHA384 ? GNUTLS_MAC_SHA384 : GNUTLS_MAC_SHA256;
}

static gnutls_cipher_algorithm_t suite_aead(enum qc_suite s) {
    switch (s) {
    case QC_SUITE_AES_128_GCM_SHA256:
        return GNUTLS_CIPHER_AES_128_GCM;
    case QC_SUITE_AES_256_GCM_SHA384:
        return GNUTLS_CIPHER_AES_256_GCM;
    case QC_SUITE_CHACHA20_POLY1305_SHA256:
        return GNUTLS_CIPHER_CHACHA20_POLY1305;
    default:
        return GNUTLS_CIPHER_UNKNOWN;
    }
}

static int g_hkdf_extract(enum qc_suite suite, const uint8_t *salt, size_t salt_len,
                          const uint8_t *ikm, size_t ikm_len, uint8_t *prk) {
    gnutls_datum_t key = {(unsigned char *)ikm, (unsigned)ikm_len};
    gnutls_datum_t s = {(unsigned char *)salt, (unsigned)salt_len};
    return gnutls_hkdf_extract(suite_mac(suite), &key, &s, prk) == 0 ? 0 : QC_ERR_CRYPTO;
}

static int g_hkdf_expand_label(enum qc_suite suite, const uint8_t *secret, size_t secret_len,
                               const char *label, uint8_t *out, size_t out_len) {
    /* HkdfLabel: uint16 length, opaque label<7..255> ("tls13 " + label), opaque context<0>. */
    uint8_t info[2 + 1 + 255 + 1];
    size_t ll = strlen(label);
    if (ll > 249 || out_len > 0xffff) return QC_ERR_INVAL;
    info[0] = (uint8_t)(out_len >> 8);
    info[1] = (uint8_t)out_len;
    info[2] = (uint8_t)(6 + ll);
    memcpy(info + 3, "tls13 ", 6);
    memcpy(info + 9, label, ll);
    info[9 + ll] = 0;
    gnutls_datum_t key = {(unsigned char *)secret, (unsigned)secret_len};
    gnutls_datum_t in = {info, (unsigned)(10 + ll)};
    return gnutls_hkdf_expand(suite_mac(suite), &key, &in, out, out_len) == 0 ? 0 : QC_ERR_CRYPTO;
}

static int g_keys_init(qc_keys *k, const uint8_t *key, const uint8_t *hp_key) {
    size_t klen = qc_suite_key_len(k->suite);
    gnutls_cipher_algorithm_t alg = suite_aead(k->suite);
    if (!klen || alg == GNUTLS_CIPHER_UNKNOWN) return QC_ERR_INVAL;
    gnutls_datum_t kd = {(unsigned char *)key, (unsigned)klen};
    gnutls_aead_cipher_hd_t a;
    if (gnutls_aead_cipher_init(&a, alg, &kd) != 0) return QC_ERR_CRYPTO;
    k->aead = a;
    if (!hp_key) return 0;
    hp_handle *hp = qc_calloc(1, sizeof(*hp));
    if (!hp) {
        gnutls_aead_cipher_deinit(a);
        k->aead = NULL;
        return QC_ERR_NOMEM;
    }
    hp->chacha = k->suite == QC_SUITE_CHACHA20_POLY1305_SHA256;
    hp->refs = 1;
    uint8_t zero[16] = {0};
    gnutls_datum_t hk = {(unsigned char *)hp_key, (unsigned)klen};
    gnutls_datum_t iv = {zero, 16};
    gnutls_cipher_algorithm_t halg =
        hp->chacha ? GNUTLS_CIPHER_CHACHA20_32
                   : (klen == 16 ? GNUTLS_CIPHER_AES_128_CBC : GNUTLS_CIPHER_AES_256_CBC);
    if (gnutls_cipher_init(&hp->h, halg, &hk, &iv) != 0) {
        qc_free(hp);
        gnutls_aead_cipher_deinit(a);
        k->aead = NULL;
        return QC_ERR_CRYPTO;
    }
    k->hp = hp;
    return 0;
}

static void *g_hp_ref(void *p) {
    hp_handle *hp = p;
    if (hp) hp->refs++;
    return hp;
}

static void g_keys_free(qc_keys *k) {
    if (k->aead) gnutls_aead_cipher_deinit((gnutls_aead_cipher_hd_t)k->aead);
    hp_handle *hp = k->hp;
    if (hp && --hp->refs == 0) {
        gnutls_cipher_deinit(hp->h);
        qc_free(hp);
    }
    k->aead = NULL;
    k->hp = NULL;
}

static int g_seal(qc_keys *k, const uint8_t *nonce, const uint8_t *ad, size_t ad_len, uint8_t *data,
                  size_t len) {
    giovec_t adv = {(void *)ad, ad_len};
    giovec_t dv = {data, len};
    size_t tag_len = QC_AEAD_TAG_LEN;
    int rv = gnutls_aead_cipher_encryptv2((gnutls_aead_cipher_hd_t)k->aead, nonce, QC_IV_LEN, &adv,
                                          1, &dv, len ? 1 : 0, data + len, &tag_len);
    return rv == 0 ? 0 : QC_ERR_CRYPTO;
}

static int g_open(qc_keys *k, const uint8_t *nonce, const uint8_t *ad, size_t ad_len, uint8_t *data,
                  size_t len) {
    if (len < QC_AEAD_TAG_LEN) return QC_ERR_DECRYPT;
    size_t clen = len - QC_AEAD_TAG_LEN;
    giovec_t adv = {(void *)ad, ad_len};
    giovec_t dv = {data, clen};
    int rv = gnutls_aead_cipher_decryptv2((gnutls_aead_cipher_hd_t)k->aead, nonce, QC_IV_LEN, &adv,
                                          1, &dv, clen ? 1 : 0, data + clen, QC_AEAD_TAG_LEN);
    return rv == 0 ? 0 : QC_ERR_DECRYPT;
}

static int g_hp_mask(qc_keys *k, const uint8_t *sample, uint8_t *mask) {
    hp_handle *hp = k->hp;
    uint8_t out[16];
    if (hp->chacha) {
        /* The sample is counter (4 bytes, little endian) || nonce (12 bytes): exactly the IV
         * layout of GnuTLS's CHACHA20_32. */
        static const uint8_t zeros[5] = {0};
        gnutls_cipher_set_iv(hp->h, (void *)sample, 16);
        if (gnutls_cipher_encrypt2(hp->h, zeros, 5, out, 5) != 0) return QC_ERR_CRYPTO;
    } else {
        static const uint8_t zero_iv[16] = {0};
        gnutls_cipher_set_iv(hp->h, (void *)zero_iv, 16);
        if (gnutls_cipher_encrypt2(hp->h, sample, 16, out, 16) != 0) return QC_ERR_CRYPTO;
    }
    memcpy(mask, out, 5);
    return 0;
}

static int g_aes128gcm_tag(const uint8_t *key, const uint8_t *nonce, const uint8_t *ad,
                           size_t ad_len, uint8_t *tag) {
    gnutls_datum_t kd = {(unsigned char *)key, 16};
    gnutls_aead_cipher_hd_t a;
    if (gnutls_aead_cipher_init(&a, GNUTLS_CIPHER_AES_128_GCM, &kd) != 0) return QC_ERR_CRYPTO;
    giovec_t adv = {(void *)ad, ad_len};
    size_t tag_len = 16;
    int rv = gnutls_aead_cipher_encryptv2(a, nonce, 12, &adv, 1, NULL, 0, tag, &tag_len);
    gnutls_aead_cipher_deinit(a);
    return rv == 0 ? 0 : QC_ERR_CRYPTO;
}

const qc_crypto_provider qc_gnutls_crypto = {
    .hkdf_extract = g_hkdf_extract,
    .hkdf_expand_label = g_hkdf_expand_label,
    .keys_init = g_keys_init,
    .keys_free = g_keys_free,
    .hp_ref = g_hp_ref,
    .seal = g_seal,
    .open = g_open,
    .hp_mask = g_hp_mask,
    .aes128gcm_tag = g_aes128gcm_tag,
};
